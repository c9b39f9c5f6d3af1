//! The elements of the input layouts: `i16` pairs and `u8` quads (see `layout.rs`), each
//! with this thread's reusable buffers and its SIMD interleaving.

use crate::pack::Activation;

/// An element of a layout.
pub(crate) trait Lane: Copy + Send + Sync + 'static {
    /// This thread's reusable buffer for layouts of this element (no fresh pages per call).
    fn scratch() -> &'static std::thread::LocalKey<std::cell::RefCell<Vec<Self>>>;
    /// This thread's reusable buffer for gathered rows.
    fn gathered() -> &'static std::thread::LocalKey<std::cell::RefCell<Vec<Self>>>;
    /// Channels per unit.
    const LANES: usize;
    /// The stored value of an offset-binary code, given the zero point's.
    fn of(code: u8, zp: u8) -> Self;
    /// The padding value.
    fn pad(zp: u8) -> Self;
    /// Interleaves whole 16-value blocks of two lines (every `step`-th value, step 1 or 2)
    /// into `out` with SIMD where this element and CPU allow; returns how many values of each
    /// line it wrote (the rest is the caller's).
    #[inline(always)]
    fn pairs16<A: Activation>(
        _out: &mut [Self],
        _l0: &[A],
        _l1: &[A],
        _step: usize,
        _zp: u8,
    ) -> usize {
        0
    }
    /// Interleaves whole 8-value blocks of four lines (every `step`-th value, step 1 or 2)
    /// into `out` with SIMD where this element and CPU allow; returns how many values of each
    /// line it wrote (the rest is the caller's).
    #[inline(always)]
    fn quads8<A: Activation>(
        _out: &mut [Self],
        _lines: [&[A]; 4],
        _start: usize,
        _step: usize,
    ) -> usize {
        0
    }
}

thread_local! {
    static SCRATCH_I16: std::cell::RefCell<Vec<i16>> = const { std::cell::RefCell::new(Vec::new()) };
    static SCRATCH_U8: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    static GATHERED_I16: std::cell::RefCell<Vec<i16>> = const { std::cell::RefCell::new(Vec::new()) };
    static GATHERED_U8: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Lane for i16 {
    fn scratch() -> &'static std::thread::LocalKey<std::cell::RefCell<Vec<Self>>> {
        &SCRATCH_I16
    }
    fn gathered() -> &'static std::thread::LocalKey<std::cell::RefCell<Vec<Self>>> {
        &GATHERED_I16
    }
    const LANES: usize = 2;
    #[inline(always)]
    fn of(code: u8, zp: u8) -> Self {
        i16::from(code) - i16::from(zp)
    }
    fn pad(_: u8) -> Self {
        0
    }
    #[inline(always)]
    fn pairs16<A: Activation>(out: &mut [Self], l0: &[A], l1: &[A], step: usize, zp: u8) -> usize {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 was just detected.
            return unsafe { super::interleave::pairs16_avx2(out, l0, l1, step, zp) };
        }
        let _ = (out, l0, l1, step, zp);
        0
    }
}

impl Lane for u8 {
    fn scratch() -> &'static std::thread::LocalKey<std::cell::RefCell<Vec<Self>>> {
        &SCRATCH_U8
    }
    fn gathered() -> &'static std::thread::LocalKey<std::cell::RefCell<Vec<Self>>> {
        &GATHERED_U8
    }
    const LANES: usize = 4;
    #[inline(always)]
    fn of(code: u8, _: u8) -> Self {
        code
    }
    fn pad(zp: u8) -> Self {
        zp
    }
    #[inline(always)]
    fn quads8<A: Activation>(
        out: &mut [Self],
        lines: [&[A]; 4],
        start: usize,
        step: usize,
    ) -> usize {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 was just detected.
            return unsafe { super::interleave::quads8_avx2(out, lines, start, step) };
        }
        let _ = (out, lines, start, step);
        0
    }
}
