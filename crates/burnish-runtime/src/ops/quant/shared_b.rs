//! Constant `B` operands packed once per constant: the nodes that read one weight with the
//! same zero points and layout (the cells of an unrolled LSTM) share one packed copy, which
//! then also stays in cache from one node to the next.

use std::sync::{Arc, Mutex, Weak};

use burnish_kernels::PackedB;
use burnish_model::TensorData;

/// One constant `B` packed for the nodes that read it with the same zero points and layout.
struct SharedB {
    tensor: Weak<TensorData>,
    zps: Vec<i32>,
    trans: bool,
    packed: Weak<PackedB>,
}

/// Packed weights by constant, while both live: the cells of an unrolled LSTM read one weight,
/// which is then packed and held once (and stays in cache across the cells), not per node.
static SHARED_B: Mutex<Vec<SharedB>> = Mutex::new(Vec::new());

/// `b` packed by `pack`, or the copy already packed for this constant (the same allocation,
/// not merely equal values), zero points and layout.
pub(super) fn shared_pack(
    b: &Arc<TensorData>,
    zps: &[i32],
    trans: bool,
    pack: impl FnOnce() -> Result<PackedB, String>,
) -> Result<Arc<PackedB>, String> {
    let mut shared = SHARED_B.lock().unwrap_or_else(|e| e.into_inner());
    shared.retain(|e| e.tensor.strong_count() > 0 && e.packed.strong_count() > 0);
    let found = shared
        .iter()
        .filter(|e| e.trans == trans && e.zps == zps)
        .filter(|e| e.tensor.upgrade().is_some_and(|t| Arc::ptr_eq(&t, b)))
        .find_map(|e| e.packed.upgrade());
    if let Some(p) = found {
        return Ok(p);
    }
    let packed = Arc::new(pack()?);
    shared.push(SharedB {
        tensor: Arc::downgrade(b),
        zps: zps.to_vec(),
        trans,
        packed: Arc::downgrade(&packed),
    });
    Ok(packed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burnish_kernels::{Kernel, Weights};

    fn pack(w: &[i8]) -> Result<PackedB, String> {
        PackedB::quantized(Kernel::best(), Weights::I8(w), &[0], 4, 2).map_err(|e| e.to_string())
    }

    #[test]
    fn one_constant_is_packed_once_per_zero_points_and_layout() {
        let w: Vec<i8> = (0..8).collect();
        let t =
            Arc::new(TensorData::new(vec![4, 2], burnish_model::Buffer::I8(w.clone())).unwrap());
        let a = shared_pack(&t, &[0], false, || pack(&w)).unwrap();
        let b = shared_pack(&t, &[0], false, || panic!("packed again")).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let c = shared_pack(&t, &[1], false, || pack(&w)).unwrap();
        let d = shared_pack(&t, &[0], true, || pack(&w)).unwrap();
        assert!(!Arc::ptr_eq(&a, &c) && !Arc::ptr_eq(&a, &d));
        let other = Arc::new((*t).clone());
        let e = shared_pack(&other, &[0], false, || pack(&w)).unwrap();
        assert!(
            !Arc::ptr_eq(&a, &e),
            "an equal but distinct constant packs its own"
        );
    }
}
