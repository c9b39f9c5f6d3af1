//! Scatter, gather, search and bit ops (`ScatterND`, `GatherND`, `TopK`, `Unique`, `CumSum`,
//! `Einsum`, `BitShift`, ...). Index values read from data are wrapped where the spec allows
//! negatives and bounds-checked before use.

mod bits;
mod cumulative;
mod einsum;
mod host;
mod misc;
mod scatter;
mod search;
mod select;
mod spatial;
#[cfg(test)]
mod tests;

use super::Builder;

/// This family's default-domain ops.
pub(crate) const OPS: &[(&str, Builder)] = &[
    ("ScatterElements", scatter::scatter_elements),
    ("Scatter", scatter::scatter),
    ("ScatterND", scatter::scatter_nd),
    ("TensorScatter", scatter::tensor_scatter),
    ("GatherND", select::gather_nd),
    ("Compress", select::compress),
    ("NonZero", select::non_zero),
    ("OneHot", select::one_hot),
    ("ReverseSequence", select::reverse_sequence),
    ("TopK", search::top_k),
    ("Unique", search::unique),
    ("CumSum", cumulative::cum_sum),
    ("CumProd", cumulative::cum_prod),
    ("Einsum", einsum::einsum),
    ("Det", misc::det_op),
    ("Shrink", misc::shrink),
    ("Swish", misc::swish),
    ("BitShift", bits::bit_shift),
    ("BitwiseAnd", bits::bitwise_and),
    ("BitwiseOr", bits::bitwise_or),
    ("BitwiseXor", bits::bitwise_xor),
    ("BitwiseNot", bits::bitwise_not),
    ("BitCast", bits::bit_cast),
    ("MaxUnpool", spatial::max_unpool),
    ("Col2Im", spatial::col2im),
    ("CenterCropPad", spatial::center_crop_pad),
];

/// This family's ops in other domains: `(domain, op type, builder)`.
pub(crate) const DOMAIN_OPS: &[(&str, &str, Builder)] = &[];
