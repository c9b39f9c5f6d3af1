//! The v2 gRPC surface (Triton's GRPCInferenceService) of an in-process server.

mod common;

use std::net::SocketAddr;

use burnish_runtime::{Session, SessionOptions};
use burnish_serve::grpc::pb;
use burnish_serve::grpc::pb::grpc_inference_service_client::GrpcInferenceServiceClient;
use burnish_serve::{ModelSource, ServeConfig, Server};
use tonic::Code;

fn server() -> Server {
    let mut config = ServeConfig::new(vec![ModelSource::from_path(&common::fixture(
        "digits_cnn.onnx",
    ))]);
    config.http = SocketAddr::from(([127, 0, 0, 1], 0));
    config.grpc = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    Server::start(config).expect("server starts")
}

fn raw_request(x: &burnish_model::TensorData) -> pb::ModelInferRequest {
    pb::ModelInferRequest {
        model_name: "digits_cnn".into(),
        id: "g1".into(),
        inputs: vec![pb::model_infer_request::InferInputTensor {
            name: "input".into(),
            datatype: "FP32".into(),
            shape: x.shape.iter().map(|&d| d as i64).collect(),
            ..Default::default()
        }],
        raw_input_contents: vec![x.data.to_le_bytes().unwrap()],
        ..Default::default()
    }
}

#[test]
fn grpc_health_metadata_infer_config_and_statistics() {
    let server = server();
    let addr = server.grpc_addr().expect("grpc address");
    let (inputs, expected) = common::reference("digits_cnn");
    let model = burnish_model::load_onnx(common::fixture("digits_cnn.onnx")).unwrap();
    let direct = Session::new(&model, SessionOptions::default())
        .unwrap()
        .run(&inputs)
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut c = GrpcInferenceServiceClient::connect(format!("http://{addr}"))
            .await
            .expect("connect");
        assert!(
            c.server_live(pb::ServerLiveRequest {})
                .await
                .unwrap()
                .into_inner()
                .live
        );
        assert!(
            c.server_ready(pb::ServerReadyRequest {})
                .await
                .unwrap()
                .into_inner()
                .ready
        );
        let meta = c
            .server_metadata(pb::ServerMetadataRequest {})
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            meta.extensions,
            ["binary_tensor_data", "model_configuration", "statistics"]
        );
        let m = c
            .model_metadata(pb::ModelMetadataRequest {
                name: "digits_cnn".into(),
                version: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(m.inputs[0].shape, [-1, 1, 8, 8]);
        assert_eq!(m.outputs[0].name, "logits");
        let config = c
            .model_config(pb::ModelConfigRequest {
                name: "digits_cnn".into(),
                version: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .config
            .unwrap();
        assert_eq!(config.max_batch_size, 1);
        assert_eq!(config.input[0].dims, [1, 8, 8]);
        assert_eq!(config.input[0].data_type, pb::DataType::TypeFp32 as i32);

        let x = &inputs["input"];
        let r = c.model_infer(raw_request(x)).await.unwrap().into_inner();
        assert_eq!(
            (r.id.as_str(), r.outputs[0].shape.as_slice()),
            ("g1", &[2i64, 10][..])
        );
        let got: Vec<f32> = r.raw_output_contents[0]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(
            got,
            direct["logits"].as_f32().unwrap(),
            "same as the session"
        );
        for (a, b) in got.iter().zip(expected["logits"].as_f32().unwrap()) {
            assert!(
                (a - b).abs() <= 1e-4 * b.abs().max(1.0),
                "{a} vs onnxruntime {b}"
            );
        }
        let mut typed = raw_request(x);
        typed.raw_input_contents.clear();
        typed.inputs[0].contents = Some(pb::InferTensorContents {
            fp32_contents: x.as_f32().unwrap().to_vec(),
            ..Default::default()
        });
        let r = c.model_infer(typed).await.unwrap().into_inner();
        assert_eq!(r.raw_output_contents[0].len(), 80);

        let mut bad = raw_request(x);
        bad.inputs[0].shape = vec![3, 1, 8, 8];
        let e = c.model_infer(bad).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{e}");
        assert!(e.message().contains("binary_data_size"), "{e}");
        let mut unknown = raw_request(x);
        unknown.model_name = "nope".into();
        assert_eq!(
            c.model_infer(unknown).await.unwrap_err().code(),
            Code::NotFound
        );

        let stats = c
            .model_statistics(pb::ModelStatisticsRequest::default())
            .await
            .unwrap()
            .into_inner();
        let s = &stats.model_stats[0];
        assert_eq!((s.inference_count, s.execution_count), (4, 2));
        let i = s.inference_stats.as_ref().unwrap();
        assert_eq!((i.success.unwrap().count, i.fail.unwrap().count), (2, 1));
    });
    server.shutdown();
}
