//! Random ops: `Bernoulli`, `RandomUniformLike`, and the training-mode draw of `Dropout`.
//!
//! Draws come from a Mersenne Twister (MT19937) seeded the way numpy's `RandomState(seed)`
//! seeds it, turned into doubles the way `RandomState.random_sample` does. With a `seed`
//! attribute an op restarts from that seed on every run, as onnx's reference evaluator does,
//! so its outputs are a function of its inputs (and equal the reference's). Without one it
//! keeps one generator, seeded from the process's entropy, across runs.

use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

use burnish_model::{AttrExt, Buffer, DType, TensorData};

use super::host::{host_float, upload};
use crate::ops::{BuildCtx, Op, op};
use crate::value::Value;

const MT_N: usize = 624;
const MT_M: usize = 397;

/// The MT19937 generator (Matsumoto and Nishimura, 1998).
pub(crate) struct Mt19937 {
    state: Box<[u32; MT_N]>,
    next: usize,
}

impl Mt19937 {
    /// The generator seeded with `seed` by the reference initialization (`init_genrand`).
    pub(crate) fn new(seed: u32) -> Self {
        let mut state = Box::new([0u32; MT_N]);
        state[0] = seed;
        for i in 1..MT_N {
            let prev = state[i - 1];
            state[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        Mt19937 { state, next: MT_N }
    }

    fn twist(&mut self) {
        for i in 0..MT_N {
            let y = (self.state[i] & 0x8000_0000) | (self.state[(i + 1) % MT_N] & 0x7fff_ffff);
            let mag = if y & 1 == 1 { 0x9908_b0df } else { 0 };
            self.state[i] = self.state[(i + MT_M) % MT_N] ^ (y >> 1) ^ mag;
        }
        self.next = 0;
    }

    /// The next 32 random bits.
    pub(crate) fn next_u32(&mut self) -> u32 {
        if self.next >= MT_N {
            self.twist();
        }
        let mut y = self.state[self.next];
        self.next += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// The next uniform number in `[0, 1)`, with 53 random bits from two draws.
    pub(crate) fn uniform(&mut self) -> f64 {
        let a = f64::from(self.next_u32() >> 5);
        let b = f64::from(self.next_u32() >> 6);
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }
}

/// Where an op's draws come from: a fixed seed (a fresh generator each run) or one shared
/// entropy-seeded generator.
pub(crate) enum Source {
    /// Restart from this seed on every run.
    Seeded(u32),
    /// Keep drawing from this generator.
    Shared(Mutex<Mt19937>),
}

impl Source {
    /// Runs `f` on this run's generator.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Mt19937) -> T) -> T {
        match self {
            Source::Seeded(seed) => f(&mut Mt19937::new(*seed)),
            Source::Shared(m) => f(&mut m.lock().unwrap_or_else(|e| e.into_inner())),
        }
    }
}

/// The draw source of an op with an optional `seed` attribute (an int for `Dropout`, a float
/// for the others, used modulo 2^32; a NaN seed counts as absent).
pub(crate) fn seeded(ctx: &BuildCtx) -> Result<Source, String> {
    let seed = ctx.node.attrs.float_opt("seed").map_err(|e| e.0)?;
    let seed = match ctx.node.attrs.int_opt("seed") {
        Ok(Some(i)) => Some(i as u32),
        _ => seed.filter(|s| !s.is_nan()).map(|s| s as i64 as u32),
    };
    Ok(match seed {
        Some(s) => Source::Seeded(s),
        None => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let entropy = RandomState::new().hash_one(nanos);
            Source::Shared(Mutex::new(Mt19937::new((entropy ^ (entropy >> 32)) as u32)))
        }
    })
}

fn draw(rng: &Source, n: usize) -> Vec<f64> {
    rng.with(|mt| (0..n).map(|_| mt.uniform()).collect())
}

/// The optional `dtype` attribute as a burnish dtype.
fn dtype_attr(ctx: &BuildCtx) -> Result<Option<DType>, String> {
    ctx.node
        .attrs
        .int_opt("dtype")
        .map_err(|e| e.0)?
        .map(|c| {
            i32::try_from(c)
                .ok()
                .and_then(DType::from_onnx)
                .ok_or_else(|| format!("dtype {c} is not a supported tensor type"))
        })
        .transpose()
}

/// `Bernoulli(input)`: 1 with probability `input[i]`, else 0, as `dtype` (default: the
/// input's type).
pub(crate) fn bernoulli(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let dtype = dtype_attr(ctx)?;
    if dtype == Some(DType::String) {
        return Err("Bernoulli dtype cannot be string".into());
    }
    let rng = seeded(ctx)?;
    op(move |mut ins| {
        let p = host_float(&ins.take(0)?, "input")?;
        if let Some(bad) = p.data.iter().find(|p| !(0.0..=1.0).contains(*p)) {
            return Err(format!("Bernoulli probability {bad} is outside [0, 1]"));
        }
        let hits = rng.with(|mt| p.data.iter().map(|&p| bernoulli_draw(mt, p)).collect());
        Ok(vec![upload(dtype.unwrap_or(p.dtype), p.shape, hits)?])
    })
}

/// One Bernoulli(`p`) draw for `p` in `[0, 1]`, made the way numpy's legacy
/// `binomial(1, p)` makes it: inversion on the smaller of `p` and `1 - p`.
fn bernoulli_draw(mt: &mut Mt19937, p: f64) -> f64 {
    if p <= 0.5 {
        f64::from(inversion(mt, p))
    } else {
        f64::from(1 - inversion(mt, 1.0 - p))
    }
}

/// Binomial inversion with `n = 1` and `p <= 0.5`: 0 or 1.
fn inversion(mt: &mut Mt19937, p: f64) -> u8 {
    let q = 1.0 - p;
    let qn = q.ln().exp();
    let (mut x, mut px, mut u) = (0u8, qn, mt.uniform());
    while u > px {
        x += 1;
        if x > 1 {
            x = 0;
            px = qn;
            u = mt.uniform();
        } else {
            u -= px;
            px = p * px / q;
        }
    }
    x
}

/// `RandomUniformLike(input)`: uniform numbers in `[low, high)` shaped like the input, as
/// `dtype` (default: the input's type, which must then be a float type).
pub(crate) fn random_uniform_like(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let dtype = dtype_attr(ctx)?;
    if let Some(d) = dtype.filter(|d| !d.is_float()) {
        return Err(format!(
            "RandomUniformLike dtype must be a float type, found {d}"
        ));
    }
    let low = f64::from(ctx.float("low", 0.0)?);
    let high = f64::from(ctx.float("high", 1.0)?);
    let rng = seeded(ctx)?;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let to = dtype.unwrap_or(x.dtype());
        if !to.is_float() {
            return Err(format!(
                "RandomUniformLike of a {} input needs a float dtype attribute",
                x.dtype()
            ));
        }
        let shape = x.shape();
        let u = draw(&rng, x.numel());
        let v = u.into_iter().map(|u| low + u * (high - low)).collect();
        Ok(vec![upload(to, shape, v)?])
    })
}

/// `Dropout` in training mode with `ratio` in `(0, 1)`: keeps each element with probability
/// `1 - ratio`, scaled by `1 / (1 - ratio)`; returns the output and the keep mask.
pub(crate) fn dropout_training(
    x: &Value,
    ratio: f64,
    rng: &Source,
) -> Result<(Value, Value), String> {
    if !(0.0..1.0).contains(&ratio) {
        return Err(format!("Dropout ratio {ratio} is outside [0, 1)"));
    }
    let x = host_float(x, "Dropout data")?;
    let scale = 1.0 / (1.0 - ratio);
    let keep: Vec<bool> = draw(rng, x.data.len())
        .into_iter()
        .map(|u| u >= ratio)
        .collect();
    let y = x
        .data
        .iter()
        .zip(&keep)
        .map(|(&v, &k)| if k { v * scale } else { 0.0 })
        .collect();
    let mask = TensorData::new(x.shape.clone(), Buffer::Bool(keep)).map_err(|e| e.to_string())?;
    Ok((upload(x.dtype, x.shape, y)?, Value::upload(&mask)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_numpy_random_state() {
        let mut mt = Mt19937::new(5);
        let first: Vec<u32> = (0..3).map(|_| mt.next_u32()).collect();
        assert_eq!(first, [953_453_411, 236_996_814, 3_739_766_767]);
        let u = draw(&Source::Seeded(0), 3);
        let want = [
            0.548_813_503_927_324_8,
            0.715_189_366_372_419_5,
            0.602_763_376_071_643_9,
        ];
        for (u, w) in u.iter().zip(want) {
            assert!((u - w).abs() < 1e-15, "{u} vs {w}");
        }
        let shared = Source::Shared(Mutex::new(Mt19937::new(0)));
        assert_eq!(draw(&shared, 3), u);
        assert_ne!(draw(&shared, 3), u);
    }

    #[test]
    fn dropout_keeps_about_one_minus_ratio_scaled() {
        let x = Value::from_data(&TensorData::from_f32(vec![4000], vec![2.0; 4000])).unwrap();
        let rng = Source::Seeded(1);
        let (y, mask) = dropout_training(&x, 0.25, &rng).unwrap();
        let (y, mask) = (y.to_f64_vec().unwrap(), mask.to_f64_vec().unwrap());
        let kept = mask.iter().filter(|&&m| m == 1.0).count() as f64 / 4000.0;
        assert!((kept - 0.75).abs() < 0.03, "{kept}");
        for (y, m) in y.iter().zip(&mask) {
            assert!((y - m * 2.0 / 0.75).abs() < 1e-6);
        }
        assert!(dropout_training(&x, 1.0, &rng).is_err());
        assert!(dropout_training(&x, -0.5, &rng).is_err());
        assert!(dropout_training(&x, f64::NAN, &rng).is_err());
    }
}
