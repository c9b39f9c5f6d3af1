//! Operator kernels and the one list that registers them.
//!
//! Adding an op: write its builder in the family file (`binary.rs`, `conv.rs`, ...), add one
//! line to that family's list ([`REGISTRY`] for the core families, a family's own `OPS` list for
//! the others, all gathered in [`FAMILIES`]), and add a case under `tests/fixtures/ops/` made by a
//! committed generator script. Builders parse attributes and constant inputs once, when a session
//! is created; the returned [`Op`] only computes.

mod activation;
mod attention;
mod binary;
mod control;
mod conv;
pub(crate) mod conv_chain;
mod conv_fast;
mod fused;
mod gather;
pub(crate) mod generate;
mod image;
mod indexing;
mod layout;
mod linalg;
mod loss;
pub(crate) mod map_chain;
mod map_step;
mod ml;
pub(crate) mod norm;
mod pack_table;
mod pointwise;
mod pool;
mod pool_int;
mod quant;
mod reduce;
mod resize;
mod rnn;
mod sequence;
mod shape;
#[cfg(test)]
mod test_support;
mod text;
mod unary;
pub(crate) mod util;

use std::sync::Arc;

use burnish_model::{AttrExt, Attributes, Node, TensorData};

use crate::value::Value;

/// A compiled operator: attributes already parsed, ready to run many times.
pub trait Op: Send + Sync {
    /// Computes the outputs from the inputs (`None` for omitted optional inputs).
    fn run(&self, inputs: Inputs) -> Result<Vec<Value>, String>;

    /// Input positions whose constant values the op took at build and never reads at run
    /// time: the session passes `None` there instead of a copy of the value.
    fn captured(&self) -> &[usize] {
        &[]
    }
}

/// An op that declares the constant inputs it captured at build ([`Op::captured`]).
struct Captured {
    op: Box<dyn Op>,
    positions: Vec<usize>,
}

impl Op for Captured {
    fn run(&self, inputs: Inputs) -> Result<Vec<Value>, String> {
        self.op.run(inputs)
    }

    fn captured(&self) -> &[usize] {
        &self.positions
    }
}

/// Wraps `op`, declaring that it never reads input `positions` at run time (each of them
/// must be a constant input it took at build).
pub fn captured(op: Box<dyn Op>, positions: Vec<usize>) -> Box<dyn Op> {
    Box::new(Captured { op, positions })
}

/// Builds an [`Op`] for one node.
pub type Builder = fn(&BuildCtx) -> Result<Box<dyn Op>, String>;

/// Constant values by name, as known where a node is built.
pub type Known = std::collections::HashMap<String, Arc<TensorData>>;

/// What a builder sees: the node, the opset, the host value of every constant input, and for
/// nodes with subgraphs the scope those subgraphs compile in.
pub struct BuildCtx<'a> {
    /// The node.
    pub node: &'a Node,
    /// Default-domain opset of the model.
    pub opset: i64,
    /// For each input, its value when it is an initializer or a `Constant` output.
    pub consts: Vec<Option<Arc<TensorData>>>,
    /// For nodes with subgraphs: the enclosing-scope values their subgraphs read that are not
    /// constants, in the order the session passes them after the node's own inputs.
    pub implicit: Vec<String>,
    /// Every constant known where the node is built (subgraphs take the ones they read).
    pub known: Option<&'a Known>,
    /// Whether subgraphs compile with conv-chain fusion.
    pub fuse: bool,
    /// Per output, whether nothing reads it (no node, subgraph or graph output); empty when
    /// unknown, which means every output is read.
    pub unread: Vec<bool>,
}

impl<'a> BuildCtx<'a> {
    /// The context of `node`, its constant inputs looked up in `host`.
    pub fn new(node: &'a Node, opset: i64, host: &'a Known) -> Self {
        BuildCtx {
            node,
            opset,
            consts: node
                .inputs
                .iter()
                .map(|n| host.get(n.as_str()).cloned())
                .collect(),
            implicit: Vec::new(),
            known: Some(host),
            fuse: true,
            unread: Vec::new(),
        }
    }

    /// The context of `node` with the given constant inputs and no enclosing scope.
    pub fn with_consts(node: &'a Node, opset: i64, consts: Vec<Option<Arc<TensorData>>>) -> Self {
        BuildCtx {
            node,
            opset,
            consts,
            implicit: Vec::new(),
            known: None,
            fuse: true,
            unread: Vec::new(),
        }
    }

    /// Whether output `i` is wanted: named, and read by something (as far as is known).
    pub fn wants_output(&self, i: usize) -> bool {
        self.node.outputs.get(i).is_some_and(|n| !n.is_empty())
            && !self.unread.get(i).copied().unwrap_or(false)
    }

    /// The node's attributes.
    pub fn attrs(&self) -> &Attributes {
        &self.node.attrs
    }

    /// Integer attribute with a default, error text naming the attribute.
    pub fn int(&self, name: &str, default: i64) -> Result<i64, String> {
        self.node.attrs.int_or(name, default).map_err(|e| e.0)
    }

    /// Float attribute with a default.
    pub fn float(&self, name: &str, default: f32) -> Result<f32, String> {
        self.node.attrs.float_or(name, default).map_err(|e| e.0)
    }

    /// String attribute with a default.
    pub fn string(&self, name: &str, default: &str) -> Result<String, String> {
        self.node.attrs.string_or(name, default).map_err(|e| e.0)
    }

    /// Integer-list attribute.
    pub fn ints(&self, name: &str) -> Result<Option<Vec<i64>>, String> {
        self.node.attrs.ints_opt(name).map_err(|e| e.0)
    }

    /// Float-list attribute.
    pub fn floats(&self, name: &str) -> Result<Option<Vec<f32>>, String> {
        self.node.attrs.floats_opt(name).map_err(|e| e.0)
    }
}

/// The inputs of one op invocation.
pub struct Inputs {
    values: Vec<Option<Value>>,
}

impl Inputs {
    /// Wraps the input values.
    pub fn new(values: Vec<Option<Value>>) -> Self {
        Self { values }
    }

    /// Takes required input `i`.
    pub fn take(&mut self, i: usize) -> Result<Value, String> {
        self.values
            .get_mut(i)
            .and_then(Option::take)
            .ok_or_else(|| format!("required input #{i} is missing"))
    }

    /// Takes optional input `i`.
    pub fn opt(&mut self, i: usize) -> Option<Value> {
        self.values.get_mut(i).and_then(Option::take)
    }

    /// Number of input positions (including omitted ones).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// The input values by position (`None` for omitted or taken ones).
    pub fn into_values(self) -> Vec<Option<Value>> {
        self.values
    }

    /// Takes every remaining present input, in order.
    pub fn take_all(self) -> Vec<Value> {
        self.values.into_iter().flatten().collect()
    }
}

/// An [`Op`] from a closure.
pub struct FnOp<F>(pub F);

impl<F> Op for FnOp<F>
where
    F: Fn(Inputs) -> Result<Vec<Value>, String> + Send + Sync,
{
    fn run(&self, inputs: Inputs) -> Result<Vec<Value>, String> {
        (self.0)(inputs)
    }
}

/// Boxes a closure as an [`Op`].
pub fn op<F>(f: F) -> Result<Box<dyn Op>, String>
where
    F: Fn(Inputs) -> Result<Vec<Value>, String> + Send + Sync + 'static,
{
    Ok(Box::new(FnOp(f)))
}

/// One family's ops: `(op type, builder)` in the default domain.
pub type Family = &'static [(&'static str, Builder)];

macro_rules! registry {
    ($($op:literal => $builder:path),* $(,)?) => {
        /// The core families' default-domain op types and their builders.
        pub const REGISTRY: Family = &[$(($op, $builder)),*];
    };
}

/// Every default-domain op list: the core [`REGISTRY`] and each family that keeps its own.
pub const FAMILIES: &[Family] = &[
    REGISTRY,
    control::OPS,
    attention::OPS,
    loss::OPS,
    indexing::OPS,
    image::OPS,
    sequence::OPS,
    text::OPS,
    ml::OPS,
];

/// Ops of other domains: `(domain, op type, builder)`.
pub const DOMAIN_OPS: &[&[(&str, &str, Builder)]] = &[
    attention::DOMAIN_OPS,
    loss::DOMAIN_OPS,
    indexing::DOMAIN_OPS,
    image::DOMAIN_OPS,
    sequence::DOMAIN_OPS,
    text::DOMAIN_OPS,
    ml::DOMAIN_OPS,
];

registry! {
    "Abs" => unary::abs, "Acos" => unary::acos, "Acosh" => unary::acosh, "Asin" => unary::asin,
    "Asinh" => unary::asinh, "Atan" => unary::atan, "Atanh" => unary::atanh, "Ceil" => unary::ceil,
    "Cos" => unary::cos, "Cosh" => unary::cosh, "Erf" => unary::erf, "Exp" => unary::exp,
    "Floor" => unary::floor, "Log" => unary::log, "Neg" => unary::neg, "Reciprocal" => unary::reciprocal,
    "Round" => unary::round, "Sign" => unary::sign, "Sin" => unary::sin, "Sinh" => unary::sinh,
    "Sqrt" => unary::sqrt, "Tan" => unary::tan, "Tanh" => unary::tanh, "Not" => unary::not,
    "IsNaN" => unary::is_nan, "IsInf" => unary::is_inf,
    "Identity" => unary::identity, "Dropout" => unary::dropout,
    "Add" => binary::add, "Sub" => binary::sub, "Mul" => binary::mul, "Div" => binary::div,
    "Pow" => binary::pow, "Mod" => binary::modulo, "Max" => binary::max, "Min" => binary::min,
    "Sum" => binary::sum, "Mean" => binary::mean,
    "Equal" => binary::equal, "Greater" => binary::greater, "GreaterOrEqual" => binary::greater_equal,
    "Less" => binary::less, "LessOrEqual" => binary::less_equal,
    "And" => binary::and, "Or" => binary::or, "Xor" => binary::xor, "Where" => binary::where_op,
    "PRelu" => binary::prelu,
    "Relu" => activation::relu, "LeakyRelu" => activation::leaky_relu, "Sigmoid" => activation::sigmoid,
    "HardSigmoid" => activation::hard_sigmoid, "HardSwish" => activation::hard_swish,
    "Clip" => activation::clip, "Elu" => activation::elu, "Selu" => activation::selu,
    "Celu" => activation::celu, "Softplus" => activation::softplus, "Softsign" => activation::softsign,
    "Gelu" => activation::gelu, "Mish" => activation::mish, "ThresholdedRelu" => activation::thresholded_relu,
    "Softmax" => activation::softmax, "LogSoftmax" => activation::log_softmax,
    "Hardmax" => activation::hardmax,
    "MatMul" => linalg::matmul, "Gemm" => linalg::gemm,
    "Conv" => conv::conv, "ConvTranspose" => conv::conv_transpose,
    "MaxPool" => pool::max_pool, "AveragePool" => pool::average_pool,
    "GlobalAveragePool" => pool::global_average_pool, "GlobalMaxPool" => pool::global_max_pool,
    "BatchNormalization" => norm::batch_norm, "LayerNormalization" => norm::layer_norm,
    "InstanceNormalization" => norm::instance_norm,
    "ReduceMean" => reduce::reduce_mean, "ReduceSum" => reduce::reduce_sum,
    "ReduceMax" => reduce::reduce_max, "ReduceMin" => reduce::reduce_min,
    "ReduceProd" => reduce::reduce_prod, "ReduceSumSquare" => reduce::reduce_sum_square,
    "ReduceL1" => reduce::reduce_l1, "ReduceL2" => reduce::reduce_l2,
    "ReduceLogSumExp" => reduce::reduce_log_sum_exp, "ReduceLogSum" => reduce::reduce_log_sum,
    "ArgMax" => reduce::arg_max, "ArgMin" => reduce::arg_min,
    "Reshape" => shape::reshape, "Flatten" => shape::flatten, "Transpose" => shape::transpose,
    "Squeeze" => shape::squeeze, "Unsqueeze" => shape::unsqueeze, "Shape" => shape::shape,
    "Size" => shape::size, "Expand" => shape::expand, "Concat" => layout::concat,
    "Split" => layout::split, "Slice" => layout::slice_op, "Tile" => layout::tile, "Pad" => layout::pad,
    "DepthToSpace" => layout::depth_to_space, "SpaceToDepth" => layout::space_to_depth,
    "Gather" => gather::gather, "GatherElements" => gather::gather_elements,
    "Constant" => generate::constant, "ConstantOfShape" => generate::constant_of_shape,
    "Range" => generate::range, "Cast" => generate::cast, "CastLike" => generate::cast_like,
    "EyeLike" => generate::eye_like, "Trilu" => generate::trilu,
    "Resize" => resize::resize, "Upsample" => resize::upsample,
    "LSTM" => rnn::lstm, "GRU" => rnn::gru,
    "QuantizeLinear" => quant::quantize_linear, "DequantizeLinear" => quant::dequantize_linear,
    "DynamicQuantizeLinear" => quant::dynamic_quantize_linear,
    "QLinearConv" => quant::qlinear_conv, "QLinearMatMul" => quant::qlinear_matmul,
    "MatMulInteger" => quant::matmul_integer, "ConvInteger" => quant::conv_integer,
}

/// The builder for an op type in a domain, if burnish supports it.
pub fn builder(domain: &str, op_type: &str) -> Option<Builder> {
    if domain == burnish_model::domain::DOMAIN {
        return fused::builder(op_type).or_else(|| quant::burnish_builder(op_type));
    }
    if domain == "com.microsoft" {
        return quant::microsoft_builder(op_type);
    }
    if !(domain.is_empty() || domain == "ai.onnx") {
        return DOMAIN_OPS
            .iter()
            .flat_map(|list| list.iter())
            .find(|(d, name, _)| *d == domain && *name == op_type)
            .map(|(_, _, b)| *b);
    }
    FAMILIES
        .iter()
        .flat_map(|list| list.iter())
        .find(|(name, _)| *name == op_type)
        .map(|(_, b)| *b)
}
