//! Running a compiled plan: value slots filled step by step, each step's panics caught and
//! reported as errors of its node.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::error::RuntimeError;
use crate::ops::Inputs;
use crate::plan::Plan;
use crate::session::NodeTiming;
use crate::value::Value;

thread_local! {
    /// How many step calls on this thread are inside `catch_unwind` right now.
    static CATCHING: Cell<usize> = const { Cell::new(0) };
}

/// How many step calls on any thread are inside `catch_unwind` right now.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

/// Installs (once per process) a panic hook that stays silent for panics the executor
/// catches: on a thread running a step, or on a rayon worker (whose panics propagate to the
/// step that spawned the work). Every other panic goes to the hook that was installed before.
fn quiet_caught_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let caught = CATCHING.with(Cell::get) > 0
                || (rayon::current_thread_index().is_some() && ACTIVE.load(Ordering::SeqCst) > 0);
            if !caught {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic into an error message; the panic prints nothing.
pub(crate) fn catch<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    quiet_caught_panics();
    CATCHING.with(|c| c.set(c.get() + 1));
    ACTIVE.fetch_add(1, Ordering::SeqCst);
    let result =
        catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| Err(panic_message(panic)));
    ACTIVE.fetch_sub(1, Ordering::SeqCst);
    CATCHING.with(|c| c.set(c.get() - 1));
    result
}

impl Plan {
    /// Runs the plan on its input values (graph inputs, then implicit ones) and returns the
    /// output values; with `timings`, also times every step.
    pub(crate) fn execute(
        &self,
        inputs: Vec<Value>,
        mut timings: Option<&mut Vec<NodeTiming>>,
    ) -> Result<Vec<Value>, RuntimeError> {
        let plan = self;
        let mut slots: Vec<Option<Value>> = vec![None; plan.slots];
        for (s, v) in &plan.consts {
            slots[*s] = Some(v.clone());
        }
        for ((_, s), v) in plan.inputs.iter().zip(inputs) {
            slots[*s] = Some(v);
        }
        for step in &plan.steps {
            let node_err = |message: String| RuntimeError::Node {
                node: step.name.clone(),
                op: step.op_type.clone(),
                message,
            };
            let mut args = Vec::with_capacity(step.inputs.len());
            for input in &step.inputs {
                args.push(match input {
                    None => None,
                    Some((s, true)) => Some(
                        slots[*s]
                            .take()
                            .ok_or_else(|| node_err("input not computed".into()))?,
                    ),
                    Some((s, false)) => Some(
                        slots[*s]
                            .clone()
                            .ok_or_else(|| node_err("input not computed".into()))?,
                    ),
                });
            }
            // Profiled runs record the input shapes (captured constants included); they also
            // name a panicking step's inputs there. Plain runs skip the per-step allocations.
            let input_shapes: Vec<Vec<usize>> = match timings.is_some() {
                true => {
                    let mut shapes: Vec<Vec<usize>> = args
                        .iter()
                        .map(|a| a.as_ref().map(Value::shape).unwrap_or_default())
                        .collect();
                    for (p, shape) in &step.captured_shapes {
                        if let Some(s) = shapes.get_mut(*p) {
                            s.clone_from(shape);
                        }
                    }
                    shapes
                }
                false => Vec::new(),
            };
            let start = timings.as_ref().map(|_| Instant::now());
            let result = catch(|| step.op.run(Inputs::new(args)));
            let outs = result.map_err(|m| match m.strip_prefix(PANIC) {
                Some(text) if input_shapes.is_empty() => node_err(text.to_string()),
                Some(text) => node_err(format!("{text} (inputs of shapes {input_shapes:?})")),
                None => node_err(m),
            })?;
            if let (Some(t), Some(start)) = (timings.as_mut(), start) {
                t.push(NodeTiming {
                    name: step.name.clone(),
                    op_type: step.op_type.clone(),
                    elapsed: start.elapsed(),
                    input_shapes,
                    output_shapes: outs.iter().map(Value::shape).collect(),
                });
            }
            let mut outs = outs.into_iter();
            for out in &step.outputs {
                let v = outs.next();
                if let Some(s) = out {
                    slots[*s] =
                        Some(v.ok_or_else(|| node_err("an output was not produced".into()))?);
                }
            }
        }
        plan.outputs
            .iter()
            .map(|(name, s)| {
                slots[*s].clone().ok_or_else(|| RuntimeError::Value {
                    name: name.clone(),
                    message: "graph output was not computed".into(),
                })
            })
            .collect()
    }
}

fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("{PANIC}{text}")
}

/// How [`catch`] marks the message of a panic.
const PANIC: &str = "internal error: ";
