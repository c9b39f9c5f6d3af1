//! `MatMul` and `Gemm` whose right operand is a constant 2-D float32 weight: the weight is
//! packed once at build ([`PackedLinear`]). Products run on its register-tiled kernel (no
//! per-call packing or transposition) where it is the faster one (any rows with AVX-512, a few
//! rows otherwise), larger ones on Burn's GEMM with the weight already contiguous; a constant
//! bias is added in the same pass as the activation would be.

use std::sync::Arc;

use burn_backend::Shape;
use burn_backend::ops::FloatTensorOps;
use burn_flex::FlexTensor;
use burnish_model::TensorData;

use super::shared::{self, SharedWeight};

use super::super::pointwise::{self, Pointwise};
use super::super::util::{dense, dims, float, upload_f32};
use super::super::{Inputs, Op};
use crate::value::{B, Value};

/// A product with a constant weight.
pub(crate) struct PackedMatMul {
    weight: Arc<SharedWeight>,
    bias: Option<FlexTensor>,
    /// Input positions the op took at build (the weight, a constant bias).
    captured: Vec<usize>,
    /// `Gemm`: a run-time `C` at input 2, added with `beta`.
    runtime_c: Option<f32>,
    /// The activation applied after the bias (`Identity` for plain products).
    act: Pointwise,
}

impl PackedMatMul {
    /// The op for weight `w` (2-D f32; `transposed` for `Gemm(transB=1)`), scaled by `alpha`,
    /// and an optional constant bias broadcast along the last axis; ops on the same weight
    /// share one packing ([`shared`]). `None` when the weight or bias does not fit this form
    /// (the caller falls back to the general op).
    pub(crate) fn build(
        w: &Arc<TensorData>,
        transposed: bool,
        alpha: f32,
        bias: Option<Vec<f32>>,
        captured: Vec<usize>,
        runtime_c: Option<f32>,
    ) -> Option<PackedMatMul> {
        let (rows, cols) = match w.shape.as_slice() {
            [r, c] => (*r, *c),
            _ => return None,
        };
        let (k, n) = if transposed {
            (cols, rows)
        } else {
            (rows, cols)
        };
        let bias_tensor = bias.as_ref().map(|b| upload_f32(b.clone(), vec![n]));
        let weight = shared::packed(w, k, n, transposed, alpha, bias)?;
        Some(PackedMatMul {
            weight,
            bias: bias_tensor,
            captured,
            runtime_c,
            act: Pointwise::Identity,
        })
    }

    /// The same product followed by `act` (burnish's fused `Linear`); `None` with a run-time
    /// `C`, which must be added before the activation.
    pub(crate) fn with_activation(mut self, act: Pointwise) -> Option<PackedMatMul> {
        if self.runtime_c.is_some() && act != Pointwise::Identity {
            return None;
        }
        self.act = act;
        Some(self)
    }

    fn forward(&self, a: FlexTensor) -> Result<FlexTensor, String> {
        let shape = dims(&a);
        let packed = &self.weight.packed;
        let (k, n) = (packed.k(), packed.n());
        let Some((&last, lead)) = shape.split_last() else {
            return Err("MatMul operands must have rank >= 1".into());
        };
        if last != k {
            return Err(format!(
                "MatMul inner dimensions differ: {shape:?} x [{k}, {n}]"
            ));
        }
        let m: usize = lead.iter().product();
        let mut out_shape = lead.to_vec();
        out_shape.push(n);
        super::super::util::check_numel(&out_shape)?;
        let fast = packed.prefers(m);
        let a = if fast { dense(a) } else { a };
        if fast && let Some(x) = a.as_slice::<f32>() {
            let mut out = vec![0f32; m * n];
            packed
                .forward(&x[..m * k], m, &mut out)
                .ok_or("packed product: operand sizes do not match")?;
            if self.act != Pointwise::Identity {
                self.act.sweep(&mut out, None);
            }
            return Ok(upload_f32(out, out_shape));
        }
        let flat = B::float_reshape(a, Shape::from(vec![m, k]));
        let y = B::float_matmul(flat, self.weight.dense().clone());
        let y = match (&self.bias, self.act) {
            (None, Pointwise::Identity) => y,
            (b, act) => pointwise::apply(y, b.as_ref(), act)?,
        };
        Ok(B::float_reshape(y, Shape::from(out_shape)))
    }
}

impl Op for PackedMatMul {
    fn run(&self, mut ins: Inputs) -> Result<Vec<Value>, String> {
        let a = float(ins.take(0)?)?;
        if a.dtype() != burn_backend::DType::F32 {
            return Err(format!("MatMul of {:?} and a float32 weight", a.dtype()));
        }
        let mut y = self.forward(a)?;
        if let (Some(beta), Some(c)) = (self.runtime_c, ins.opt(2)) {
            let c = float(c)?;
            let c = if beta == 1.0 {
                c
            } else {
                B::float_mul_scalar(c, beta.into())
            };
            y = B::float_add(y, c);
        }
        Ok(vec![Value::Float(y)])
    }

    fn captured(&self) -> &[usize] {
        &self.captured
    }
}
