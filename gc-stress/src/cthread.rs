//! The "C thread" of the `pinned-ffi` workload: it works on pinned buffers through raw
//! pointers, the way C code given `Pinned::as_ptr()` would, while the owning thread goes on
//! allocating and collecting.
//!
//! A job carries a pinned byte string's address and length, the checksum the model expects
//! its contents to have, and a fill value. The thread checks the contents first (a moved,
//! freed or overwritten buffer shows up as a wrong checksum) and then fills the buffer. Jobs
//! run in submission order. The executor does not touch a buffer's bytes, nor end its pin,
//! until [`CThread::wait_all`] has collected every reply.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::JoinHandle;

/// A buffer address handed to the C thread.
struct BufferPtr(*mut u8);

// SAFETY: the address travels to the C thread, which is the only one touching the buffer's
// bytes until the owning thread has received the job's reply (module comment).
unsafe impl Send for BufferPtr {}

struct Job {
    ptr: BufferPtr,
    len: usize,
    expect: u64,
    value: u8,
    model_id: u64,
}

struct Reply {
    model_id: u64,
    found: u64,
    expect: u64,
}

/// FNV-1a, enough to notice any changed byte.
pub fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x1000_0000_01b3)
    })
}

/// A worker thread standing in for C code.
pub struct CThread {
    jobs: Option<Sender<Job>>,
    replies: Receiver<Reply>,
    handle: Option<JoinHandle<()>>,
    inflight: usize,
}

impl std::fmt::Debug for CThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CThread")
            .field("inflight", &self.inflight)
            .finish()
    }
}

impl CThread {
    /// Starts the thread.
    pub fn spawn() -> CThread {
        let (jobs, job_rx) = channel::<Job>();
        let (reply_tx, replies) = channel::<Reply>();
        let handle = std::thread::spawn(move || {
            for job in job_rx {
                // SAFETY: the executor keeps the buffer pinned (alive, in place) and leaves
                // its bytes alone until it has received this job's reply.
                let bytes = unsafe { std::slice::from_raw_parts_mut(job.ptr.0, job.len) };
                let found = checksum(bytes);
                bytes.fill(job.value);
                if reply_tx
                    .send(Reply {
                        model_id: job.model_id,
                        found,
                        expect: job.expect,
                    })
                    .is_err()
                {
                    break;
                }
            }
        });
        CThread {
            jobs: Some(jobs),
            replies,
            handle: Some(handle),
            inflight: 0,
        }
    }

    /// Hands a pinned buffer to the thread.
    pub fn submit(&mut self, ptr: *mut u8, len: usize, expect: u64, value: u8, model_id: u64) {
        let job = Job {
            ptr: BufferPtr(ptr),
            len,
            expect,
            value,
            model_id,
        };
        if let Some(jobs) = &self.jobs {
            if jobs.send(job).is_ok() {
                self.inflight += 1;
            }
        }
    }

    /// Whether jobs are outstanding.
    pub fn busy(&self) -> bool {
        self.inflight > 0
    }

    /// Waits for every outstanding job; reports the first buffer whose contents were not what
    /// the model expected.
    pub fn wait_all(&mut self) -> Result<(), String> {
        let mut first_error = None;
        while self.inflight > 0 {
            let reply = self
                .replies
                .recv()
                .map_err(|_| "the C thread died".to_string())?;
            self.inflight -= 1;
            if reply.found != reply.expect && first_error.is_none() {
                first_error = Some(format!(
                    "object {}: the C thread read a pinned buffer whose contents differ from the model",
                    reply.model_id
                ));
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for CThread {
    fn drop(&mut self) {
        let _ = self.wait_all();
        self.jobs = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
