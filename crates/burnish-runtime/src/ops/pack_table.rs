//! Weights packed once per constant: an unrolled recurrence (PyTorch's traced `LSTMCell` loop,
//! tf2onnx's unrolled RNNs, their QDQ exports) applies one weight in a node per time step, and a
//! pipeline builds several sessions of one model. Packing per node gave an unrolled LSTM of 20
//! steps 20 copies of its weight, so every step streamed its own copy from DRAM instead of the
//! one copy from cache (onnxruntime shares prepacked weights the same way). A packing lives as
//! long as some op holds it; the table keeps only weak references. The f32 products
//! (`linalg/shared.rs`) and the int8 ones (`quant/matmul.rs`) each keep a table.

use std::sync::{Arc, Mutex, Weak};

use burnish_model::TensorData;

/// Packings of constants, by source tensor (identity, not value) and a key of the packing's
/// own parameters (layout, scale, zero points).
pub(crate) struct PackTable<K, V> {
    entries: Mutex<Vec<Entry<K, V>>>,
}

struct Entry<K, V> {
    /// Keeps the source's allocation (not its data) alive, so its address names it uniquely.
    source: Weak<TensorData>,
    key: K,
    value: Weak<V>,
}

impl<K: PartialEq, V> PackTable<K, V> {
    /// An empty table (for a `static`).
    pub const fn new() -> Self {
        Self {
            entries: Mutex::new(Vec::new()),
        }
    }

    /// The packing of `source` under `key` that some op still holds, or `pack`'s, recorded.
    pub fn get_or_pack<E>(
        &self,
        source: &Arc<TensorData>,
        key: K,
        pack: impl FnOnce() -> Result<V, E>,
    ) -> Result<Arc<V>, E> {
        let weak = Arc::downgrade(source);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|e| e.value.strong_count() > 0);
        if let Some(hit) = entries
            .iter()
            .find(|e| e.source.ptr_eq(&weak) && e.key == key)
            .and_then(|e| e.value.upgrade())
        {
            return Ok(hit);
        }
        let value = Arc::new(pack()?);
        entries.push(Entry {
            source: weak,
            key,
            value: Arc::downgrade(&value),
        });
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_packing_per_source_and_key_while_held() {
        static TABLE: PackTable<u32, Vec<f32>> = PackTable::new();
        let w = Arc::new(TensorData::from_f32(vec![2], vec![1., 2.]));
        let pack = |s: f32| move || Ok::<_, ()>(vec![s]);
        let a = TABLE.get_or_pack(&w, 1, pack(1.0)).unwrap();
        let again = TABLE.get_or_pack(&w, 1, || -> Result<Vec<f32>, ()> { panic!("packed twice") });
        assert!(Arc::ptr_eq(&a, &again.unwrap()));
        let other_key = TABLE.get_or_pack(&w, 2, pack(2.0)).unwrap();
        let copy = Arc::new(TensorData::clone(&w));
        let other_source = TABLE.get_or_pack(&copy, 1, pack(3.0)).unwrap();
        assert_eq!((other_key[0], other_source[0]), (2.0, 3.0));
        drop(a);
        assert_eq!(
            TABLE.get_or_pack(&w, 1, pack(4.0)).unwrap()[0],
            4.0,
            "dropped: packed again"
        );
        assert_eq!(TABLE.get_or_pack(&w, 3, || Err("no")).unwrap_err(), "no");
    }
}
