//! Float32 weights packed once per constant and shared by every product that reads it (see
//! `ops::pack_table`: an unrolled LSTM of 20 steps held 20 copies of its 6.5 MB input weight).

use std::sync::{Arc, OnceLock};

use burn_flex::FlexTensor;
use burnish_kernels::f32::linear::PackedLinear;
use burnish_model::TensorData;

use super::super::pack_table::PackTable;
use super::super::util::upload_f32;

/// One constant weight, packed for the streaming kernel, and (built on first use) the dense
/// `k` x `n` tensor that Burn's GEMM takes for products with many rows.
pub(crate) struct SharedWeight {
    pub packed: PackedLinear,
    dense: OnceLock<FlexTensor>,
}

impl SharedWeight {
    /// The weight as a dense `k` x `n` tensor (unpacked once, on first call).
    pub fn dense(&self) -> &FlexTensor {
        self.dense.get_or_init(|| {
            upload_f32(self.packed.weight(), vec![self.packed.k(), self.packed.n()])
        })
    }
}

/// What makes two packings equal: the source tensor (by identity), the layout and the
/// folded-in scale and bias (by bits).
#[derive(PartialEq)]
struct Key {
    transposed: bool,
    alpha: u32,
    bias: Option<Vec<u32>>,
}

static TABLE: PackTable<Key, SharedWeight> = PackTable::new();

/// The packing of `w` (`k` x `n`, or `n` x `k` when `transposed`) scaled by `alpha` with
/// `bias` folded in: the one already held by another op, or a new one. `None` when the
/// weight is not float32 or the bias length is not `n`.
pub(crate) fn packed(
    w: &Arc<TensorData>,
    k: usize,
    n: usize,
    transposed: bool,
    alpha: f32,
    bias: Option<Vec<f32>>,
) -> Option<Arc<SharedWeight>> {
    let key = Key {
        transposed,
        alpha: alpha.to_bits(),
        bias: bias
            .as_ref()
            .map(|b| b.iter().map(|v| v.to_bits()).collect()),
    };
    TABLE
        .get_or_pack(w, key, || {
            let mut packed = PackedLinear::new(w.as_f32().ok_or(())?, k, n, transposed)
                .ok_or(())?
                .scaled(alpha);
            if let Some(b) = bias {
                packed = packed.with_bias(b).ok_or(())?;
            }
            Ok::<_, ()>(SharedWeight {
                packed,
                dense: OnceLock::new(),
            })
        })
        .ok()
}

#[cfg(test)]
mod tests {
    use super::super::super::util::dims;
    use super::*;

    #[test]
    fn one_packing_per_weight_scale_and_bias() {
        let w = Arc::new(TensorData::from_f32(
            vec![2, 3],
            vec![1., 2., 3., 4., 5., 6.],
        ));
        let a = packed(&w, 2, 3, false, 1.0, None).unwrap();
        let b = packed(&w, 2, 3, false, 1.0, None).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let scaled = packed(&w, 2, 3, false, 2.0, None).unwrap();
        let biased = packed(&w, 2, 3, false, 1.0, Some(vec![1.0; 3])).unwrap();
        let flipped = packed(&w, 3, 2, true, 1.0, None).unwrap();
        for other in [&scaled, &biased, &flipped] {
            assert!(!Arc::ptr_eq(&a, other));
        }
        let copy = Arc::new(TensorData::clone(&w));
        assert!(!Arc::ptr_eq(
            &a,
            &packed(&copy, 2, 3, false, 1.0, None).unwrap()
        ));
        let mut out = [0f32; 3];
        scaled.packed.forward(&[1.0, 1.0], 1, &mut out).unwrap();
        assert_eq!(out, [10.0, 14.0, 18.0]);
        assert_eq!(dims(a.dense()), vec![2, 3]);
    }

    #[test]
    fn a_dropped_packing_is_built_again() {
        let w = Arc::new(TensorData::from_f32(vec![1, 2], vec![1., 2.]));
        drop(packed(&w, 1, 2, false, 1.0, None).unwrap());
        let again = packed(&w, 1, 2, false, 1.0, None).unwrap();
        let mut out = [0f32; 2];
        again.packed.forward(&[3.0], 1, &mut out).unwrap();
        assert_eq!(out, [3.0, 6.0]);
    }
}
