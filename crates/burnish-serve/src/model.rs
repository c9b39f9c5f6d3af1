//! A served model: one shared [`Session`], a bounded queue, and `instances` OS threads that
//! take requests off the queue, batch them dynamically and run them (never on the async
//! runtime's threads).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use burnish_model::{Buffer, TensorData, samples::slice_rows};
use burnish_runtime::{Session, SessionOptions};
use tokio::sync::oneshot;

use crate::error::{RequestError, ServeError};
use crate::signature::Signature;
use crate::stats::{Execution, StatsRecorder};

/// How one model is served.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelOptions {
    /// Threads that run the model concurrently (Triton's instance count).
    pub instances: usize,
    /// Intra-op threads of the session (`None`: every core).
    pub threads: Option<usize>,
    /// Most rows in one dynamic batch (1: no batching).
    pub max_batch: usize,
    /// How long the first request of a batch waits for more.
    pub max_queue_delay: Duration,
    /// Requests the queue holds before new ones are rejected (429).
    pub max_queue: usize,
    /// A request still queued after this long is rejected.
    pub queue_timeout: Option<Duration>,
}

impl Default for ModelOptions {
    fn default() -> Self {
        Self {
            instances: 1,
            threads: None,
            max_batch: 1,
            max_queue_delay: Duration::ZERO,
            max_queue: 64,
            queue_timeout: None,
        }
    }
}

type Reply = Result<Vec<TensorData>, RequestError>;

struct Job {
    inputs: BTreeMap<String, TensorData>,
    rows: usize,
    enqueued: Instant,
    reply: oneshot::Sender<Reply>,
}

struct Shared {
    name: String,
    session: Session,
    signature: Signature,
    options: ModelOptions,
    stats: StatsRecorder,
    depth: AtomicUsize,
}

/// A loaded model and its executor threads.
pub struct ServedModel {
    shared: Arc<Shared>,
    path: PathBuf,
    sender: RwLock<Option<SyncSender<Job>>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for ServedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServedModel")
            .field("name", &self.shared.name)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl ServedModel {
    /// Loads `path`, compiles it, runs one warm-up inference on synthetic inputs (unset dims
    /// 1) and starts the executor threads.
    pub fn load(name: &str, path: &Path, options: ModelOptions) -> Result<Self, ServeError> {
        let model = burnish_model::load_onnx(path).map_err(|source| ServeError::Load {
            path: path.to_path_buf(),
            source,
        })?;
        let fail = |m: String| ServeError::Model {
            path: path.to_path_buf(),
            message: m,
        };
        let session = Session::new(&model, SessionOptions::threads(options.threads))
            .map_err(|e| fail(e.to_string()))?;
        let inputs = burnish_model::synth::random_inputs(&model.graph, &HashMap::new(), 0)
            .map_err(|e| fail(format!("warm-up inputs: {e}")))?;
        let outputs = session
            .run(&inputs)
            .map_err(|e| fail(format!("warm-up run: {e}")))?;
        let ordered: Vec<TensorData> = session
            .output_names()
            .iter()
            .filter_map(|n| outputs.get(*n).cloned())
            .collect();
        let signature = Signature::new(&model.graph, &ordered).map_err(|e| fail(e.to_string()))?;
        let shared = Arc::new(Shared {
            name: name.to_string(),
            session,
            signature,
            options: options.clone(),
            stats: StatsRecorder::default(),
            depth: AtomicUsize::new(0),
        });
        let (tx, rx) = std::sync::mpsc::sync_channel(options.max_queue.max(1));
        let rx = Arc::new(Mutex::new(rx));
        let workers = (0..options.instances.max(1))
            .map(|k| {
                let (shared, rx) = (shared.clone(), rx.clone());
                std::thread::Builder::new()
                    .name(format!("serve-{name}-{k}"))
                    .spawn(move || worker(&shared, &rx))
                    .map_err(|source| ServeError::Io {
                        context: format!("starting the threads of model `{name}`"),
                        source,
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            shared,
            path: path.to_path_buf(),
            sender: RwLock::new(Some(tx)),
            workers: Mutex::new(workers),
        })
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The model file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Inputs and outputs.
    pub fn signature(&self) -> &Signature {
        &self.shared.signature
    }

    /// Serving options.
    pub fn options(&self) -> &ModelOptions {
        &self.shared.options
    }

    /// Statistics.
    pub fn stats(&self) -> &StatsRecorder {
        &self.shared.stats
    }

    /// Requests waiting in the queue.
    pub fn queue_depth(&self) -> usize {
        self.shared.depth.load(Ordering::Relaxed)
    }

    /// Queues checked inputs; the receiver gets the outputs in signature order. A full queue
    /// is [`RequestError::Overloaded`] at once; a stopped model [`RequestError::Unavailable`].
    pub fn submit(
        &self,
        inputs: BTreeMap<String, TensorData>,
    ) -> Result<oneshot::Receiver<Reply>, RequestError> {
        let rows = match self.shared.signature.batchable {
            true => inputs
                .values()
                .next()
                .and_then(|t| t.shape.first().copied()),
            false => None,
        };
        let (reply, rx) = oneshot::channel();
        let job = Job {
            inputs,
            rows: rows.unwrap_or(1),
            enqueued: Instant::now(),
            reply,
        };
        let guard = self.sender.read().unwrap_or_else(|e| e.into_inner());
        let sender = guard.as_ref().ok_or_else(|| self.stopping())?;
        self.shared.depth.fetch_add(1, Ordering::Relaxed);
        match sender.try_send(job) {
            Ok(()) => Ok(rx),
            Err(e) => {
                self.shared.depth.fetch_sub(1, Ordering::Relaxed);
                Err(match e {
                    TrySendError::Full(_) => RequestError::Overloaded(format!(
                        "model `{}`: queue full ({} requests)",
                        self.shared.name, self.shared.options.max_queue
                    )),
                    TrySendError::Disconnected(_) => self.stopping(),
                })
            }
        }
    }

    fn stopping(&self) -> RequestError {
        RequestError::Unavailable(format!("model `{}` is shutting down", self.shared.name))
    }

    /// Stops taking requests, lets the threads finish every queued one, and joins them.
    pub fn shutdown(&self) {
        self.sender
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let workers = std::mem::take(&mut *self.workers.lock().unwrap_or_else(|e| e.into_inner()));
        for w in workers {
            let _ = w.join();
        }
    }
}

impl Drop for ServedModel {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn worker(shared: &Shared, rx: &Mutex<Receiver<Job>>) {
    let mut pending: Option<Job> = None;
    loop {
        let batch = {
            let rx = rx.lock().unwrap_or_else(|e| e.into_inner());
            let first = match pending.take() {
                Some(j) => j,
                None => match rx.recv() {
                    Ok(j) => {
                        shared.depth.fetch_sub(1, Ordering::Relaxed);
                        j
                    }
                    Err(_) => return,
                },
            };
            gather(shared, &rx, first, &mut pending)
        };
        run_batch(shared, batch);
    }
}

/// The first job and whatever joins it within the delay (same trailing dims, within
/// `max_batch` rows); a job that does not fit is left in `pending`.
fn gather(shared: &Shared, rx: &Receiver<Job>, first: Job, pending: &mut Option<Job>) -> Vec<Job> {
    let opts = &shared.options;
    let mut rows = first.rows;
    let deadline = first.enqueued + opts.max_queue_delay;
    let mut batch = vec![first];
    if !shared.signature.batchable || opts.max_batch <= 1 {
        return batch;
    }
    while rows < opts.max_batch {
        let next = match rx.try_recv() {
            Ok(j) => j,
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                match rx.recv_timeout(deadline - now) {
                    Ok(j) => j,
                    Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
                }
            }
        };
        shared.depth.fetch_sub(1, Ordering::Relaxed);
        if rows + next.rows <= opts.max_batch && same_tail(&batch[0], &next) {
            rows += next.rows;
            batch.push(next);
        } else {
            *pending = Some(next);
            break;
        }
    }
    batch
}

fn same_tail(a: &Job, b: &Job) -> bool {
    a.inputs.iter().zip(&b.inputs).all(|((ka, ta), (kb, tb))| {
        ka == kb && ta.dtype() == tb.dtype() && ta.shape.get(1..) == tb.shape.get(1..)
    })
}

fn run_batch(shared: &Shared, batch: Vec<Job>) {
    let start = Instant::now();
    let mut live = Vec::with_capacity(batch.len());
    for job in batch {
        let waited = start.duration_since(job.enqueued);
        shared.stats.queued(waited);
        if job.reply.is_closed() {
            continue;
        }
        match shared.options.queue_timeout {
            Some(limit) if waited > limit => {
                let _ = job.reply.send(Err(RequestError::Overloaded(format!(
                    "model `{}`: request waited {waited:?} in the queue, over the queue timeout",
                    shared.name
                ))));
            }
            _ => live.push(job),
        }
    }
    if live.is_empty() {
        return;
    }
    let result = execute(shared, &live);
    match result {
        Ok(parts) => {
            for (job, outs) in live.into_iter().zip(parts) {
                let _ = job.reply.send(Ok(outs));
            }
        }
        Err(_) if live.len() > 1 => {
            for job in live {
                let reply = execute(shared, std::slice::from_ref(&job))
                    .map(|mut p| p.pop().unwrap_or_default());
                let _ = job.reply.send(reply);
            }
        }
        Err(e) => {
            if let Some(job) = live.into_iter().next() {
                let _ = job.reply.send(Err(e));
            }
        }
    }
}

/// Runs the jobs as one execution; outputs per job, in signature order.
fn execute(shared: &Shared, jobs: &[Job]) -> Result<Vec<Vec<TensorData>>, RequestError> {
    let internal = |m: String| RequestError::Internal(format!("model `{}`: {m}", shared.name));
    let t0 = Instant::now();
    let values = if let [job] = jobs {
        shared.session.prepare_inputs(&job.inputs)
    } else {
        shared
            .session
            .prepare_inputs(&concat(jobs).map_err(internal)?)
    }
    .map_err(|e| RequestError::bad(format!("model `{}`: {e}", shared.name)))?;
    let t1 = Instant::now();
    let outs = shared
        .session
        .run_values(values)
        .map_err(|e| internal(e.to_string()))?;
    let t2 = Instant::now();
    let outs = outs
        .iter()
        .map(|v| v.to_data())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| internal(e.to_string()))?;
    let rows: usize = jobs.iter().map(|j| j.rows).sum();
    let parts = if jobs.len() == 1 {
        vec![outs]
    } else {
        split(&outs, jobs, rows).map_err(internal)?
    };
    shared.stats.execution(Execution {
        requests: jobs.len() as u64,
        rows: rows as u64,
        input: t1 - t0,
        infer: t2 - t1,
        output: t2.elapsed(),
    });
    Ok(parts)
}

fn concat(jobs: &[Job]) -> Result<BTreeMap<String, TensorData>, String> {
    let first = &jobs[0].inputs;
    first
        .iter()
        .map(|(name, t0)| {
            let parts: Vec<&TensorData> = jobs.iter().filter_map(|j| j.inputs.get(name)).collect();
            let bufs: Vec<&Buffer> = parts.iter().map(|t| &t.data).collect();
            let data = Buffer::concat(&bufs).ok_or("inputs of a batch differ in type")?;
            let mut shape = t0.shape.clone();
            shape[0] = parts.iter().map(|t| t.shape[0]).sum();
            let t = TensorData::new(shape, data).map_err(|e| e.to_string())?;
            Ok((name.clone(), t))
        })
        .collect()
}

fn split(outs: &[TensorData], jobs: &[Job], rows: usize) -> Result<Vec<Vec<TensorData>>, String> {
    let mut parts = vec![Vec::with_capacity(outs.len()); jobs.len()];
    for out in outs {
        if out.shape.first() != Some(&rows) {
            return Err(format!(
                "an output of shape {:?} is not batched along dim 0",
                out.shape
            ));
        }
        let mut at = 0;
        for (part, job) in parts.iter_mut().zip(jobs) {
            part.push(slice_rows(out, at, at + job.rows).map_err(|e| e.to_string())?);
            at += job.rows;
        }
    }
    Ok(parts)
}
