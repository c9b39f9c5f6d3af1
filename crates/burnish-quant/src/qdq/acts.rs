//! Which activation tensors a static quantization quantizes.

/// An activation tensor to quantize.
#[derive(Debug, Clone)]
pub struct ActTensor {
    /// The tensor whose readers will read the dequantized value.
    pub tensor: String,
    /// The value the quantizer reads (the Relu's input when a Relu is absorbed).
    pub source: String,
    /// Index of the absorbed Relu node.
    pub absorbed: Option<usize>,
    /// The tensor whose quantization parameters this one takes (outputs of data-movement ops,
    /// so that a runtime can move the codes instead of requantizing).
    pub same_as: Option<String>,
}

impl ActTensor {
    /// `tensor` quantized as it is, with its own range.
    pub fn plain(tensor: &str) -> Self {
        ActTensor {
            tensor: tensor.to_string(),
            source: tensor.to_string(),
            absorbed: None,
            same_as: None,
        }
    }
}
