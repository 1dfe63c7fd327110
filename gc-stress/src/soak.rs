//! `gc-stress soak`: a long-running server's day and night.
//!
//! Each cycle has a day, when a large live set (linked cells and byte strings of many sizes)
//! is built up while garbage churns, and a night, when the live set is released and only a
//! little garbage is made. Resident memory (from `/proc/self/statm`), the heap's live bytes and
//! its committed bytes are sampled four times a second and written as CSV and as an SVG
//! chart. Before the first day, a *dawn* as quiet as a night sets the level before the first
//! spike. The summary compares the resident memory at the end of each night with that level: a
//! server whose nights do not come back down has a leak or a collector that does not return
//! memory (the story behind this feature).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gc_core::{Config, GcArray, GcBytes, Heap, Member, Scope, Trace};
use rand::{Rng, SeedableRng};

#[derive(Trace)]
struct Cell {
    value: u64,
    next: Member<Cell>,
    text: Member<GcBytes>,
}

/// One sample.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// Seconds since the start.
    pub t: f64,
    /// Resident memory, bytes.
    pub resident: u64,
    /// Heap bytes in use (old generation, large objects, nursery).
    pub live: u64,
    /// Bytes committed from the OS.
    pub committed: u64,
}

/// The outcome of a soak run.
#[derive(Debug)]
pub struct SoakReport {
    /// All samples.
    pub samples: Vec<Sample>,
    /// Resident memory at the end of the dawn, before the first spike.
    pub before_spike: u64,
    /// Resident memory at the end of each night.
    pub nights: Vec<u64>,
    /// The CSV file.
    pub csv: PathBuf,
    /// The SVG chart.
    pub svg: PathBuf,
}

/// Resident memory of this process.
pub fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn sample(s: &gc_core::HeapStats, start: Instant) -> Sample {
    Sample {
        t: start.elapsed().as_secs_f64(),
        resident: resident_bytes(),
        live: (s.old_bytes + s.large_object_bytes + s.nursery_used) as u64,
        committed: s.committed_bytes as u64,
    }
}

/// Runs the soak for `length`, with cycles of `cycle` and a day's live set of about `live_mb`.
pub fn soak(
    config: Config,
    length: Duration,
    cycle: Duration,
    live_mb: usize,
    out: &Path,
    seed: u64,
) -> std::io::Result<SoakReport> {
    let mut heap = Heap::new(config).map_err(std::io::Error::other)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let start = Instant::now();
    let end = start
        .checked_add(length)
        .ok_or_else(|| std::io::Error::other("the soak's length is too long"))?;
    let mut samples = Vec::new();
    let mut nights = Vec::new();
    let mut next_sample = start;
    let mut tick = |stats: &gc_core::HeapStats, samples: &mut Vec<Sample>| {
        if Instant::now() >= next_sample {
            samples.push(sample(stats, start));
            next_sample += Duration::from_millis(250);
        }
    };
    // Dawn: the night's activity before any live set exists, for the level before the spike.
    quiet(
        &mut heap,
        &mut rng,
        Instant::now() + cycle / 4,
        &mut |h, samples| tick(h, samples),
        &mut samples,
    );
    let before_spike = sample(&heap.stats(), start);
    samples.push(before_spike);
    let before_spike = before_spike.resident;
    while Instant::now() + cycle <= end || nights.is_empty() {
        let cycle_start = Instant::now();
        // Day: build the live set, with garbage around it.
        heap.scope(|s| {
            let days = s.alloc_array::<GcArray<Cell>>(256).unwrap();
            let target = live_mb << 20;
            let mut built = 0usize;
            let mut slot = 0usize;
            while Instant::now() < cycle_start + cycle / 2 {
                if built < target {
                    built += build_chunk(s, days, slot % 256, &mut rng);
                    slot += 1;
                } else {
                    churn(s, &mut rng, 2_000);
                    std::thread::sleep(Duration::from_millis(5));
                }
                tick(&s.stats(), &mut samples);
            }
        });
        // Night: the live set is gone; a little garbage, and idle time.
        quiet(
            &mut heap,
            &mut rng,
            cycle_start + cycle,
            &mut |h, samples| tick(h, samples),
            &mut samples,
        );
        let night = sample(&heap.stats(), start);
        samples.push(night);
        nights.push(night.resident);
    }
    std::fs::create_dir_all(out)?;
    let csv = out.join("soak.csv");
    let mut f = std::fs::File::create(&csv)?;
    writeln!(f, "seconds,resident_bytes,live_bytes,committed_bytes")?;
    for s in &samples {
        writeln!(f, "{:.3},{},{},{}", s.t, s.resident, s.live, s.committed)?;
    }
    let svg = out.join("soak.svg");
    std::fs::write(&svg, chart(&samples, before_spike, &nights))?;
    Ok(SoakReport {
        samples,
        before_spike,
        nights,
        csv,
        svg,
    })
}

/// Builds one chunk of the day's live set (about 1 MB) into slot `slot` of `days`; returns
/// the bytes it allocated.
fn build_chunk(
    s: &mut Scope<'_>,
    days: gc_core::Handle<'_, GcArray<GcArray<Cell>>>,
    slot: usize,
    rng: &mut impl Rng,
) -> usize {
    s.scope(|s| {
        let chunk = s.alloc_array::<Cell>(4096).unwrap();
        s.array_set(days, slot, Some(chunk));
        let mut bytes = 8 + 4096 * 8;
        for i in 0..4096 {
            s.scope(|s| {
                let cell = s
                    .alloc(Cell {
                        value: i as u64,
                        next: Member::null(),
                        text: Member::null(),
                    })
                    .unwrap();
                let len = rng.gen_range(8..400);
                let text = s.alloc_bytes(&vec![b'x'; len]).unwrap();
                s.set(cell, |c| &c.text, Some(text));
                s.array_set(chunk, i, Some(cell));
                bytes += 32 + 16 + len;
            });
        }
        bytes
    })
}

/// A quiet period until `until`: a major collection, a little garbage and idle time, and a
/// major collection at the end (a night, or the dawn before the first day).
fn quiet(
    heap: &mut Heap,
    rng: &mut impl Rng,
    until: Instant,
    tick: &mut dyn FnMut(&gc_core::HeapStats, &mut Vec<Sample>),
    samples: &mut Vec<Sample>,
) {
    heap.collect_major();
    while Instant::now() < until {
        heap.scope(|s| churn(s, rng, 500));
        tick(&heap.stats(), samples);
        std::thread::sleep(Duration::from_millis(20));
    }
    heap.collect_major();
}

fn churn(s: &mut Scope<'_>, rng: &mut impl Rng, n: usize) {
    for _ in 0..n {
        s.scope(|s| {
            let len = rng.gen_range(0..200);
            s.alloc_bytes(&vec![0; len]).unwrap();
        });
    }
}

/// A line chart of the samples (resident, committed, live, in MB) with the nights marked.
fn chart(samples: &[Sample], before_spike: u64, nights: &[u64]) -> String {
    let (w, h, pad) = (900.0, 420.0, 50.0);
    let t_max = samples.iter().map(|s| s.t).fold(1.0, f64::max);
    let mb = |b: u64| b as f64 / 1_048_576.0;
    let y_max = samples
        .iter()
        .map(|s| mb(s.resident.max(s.committed)))
        .fold(1.0, f64::max)
        * 1.1;
    let x = |t: f64| pad + t / t_max * (w - 2.0 * pad);
    let y = |v: f64| h - pad - v / y_max * (h - 2.0 * pad);
    let line = |pick: &dyn Fn(&Sample) -> f64, colour: &str| {
        let points: Vec<String> = samples
            .iter()
            .map(|s| format!("{:.1},{:.1}", x(s.t), y(pick(s))))
            .collect();
        format!(
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{}\"/>",
            points.join(" ")
        )
    };
    let mut svg = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n");
    svg += &format!("<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n");
    svg += &format!(
        "<line x1=\"{pad}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n",
        h - pad,
        w - pad,
        h - pad
    );
    svg += &format!(
        "<line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{}\" stroke=\"black\"/>\n",
        h - pad
    );
    for i in 0..=4 {
        let v = y_max * i as f64 / 4.0;
        svg += &format!("<text x=\"5\" y=\"{:.1}\">{:.0} MB</text>\n", y(v) + 4.0, v);
    }
    svg += &format!(
        "<text x=\"{:.1}\" y=\"{}\">{:.0} s</text>\n",
        w - pad - 20.0,
        h - pad + 20.0,
        t_max
    );
    svg += &(line(&|s| mb(s.resident), "#d62728") + "\n");
    svg += &(line(&|s| mb(s.committed), "#1f77b4") + "\n");
    svg += &(line(&|s| mb(s.live), "#2ca02c") + "\n");
    svg += "<text x=\"60\" y=\"20\" fill=\"#d62728\">resident</text><text x=\"140\" y=\"20\" fill=\"#1f77b4\">committed</text><text x=\"230\" y=\"20\" fill=\"#2ca02c\">heap in use</text>\n";
    let first = before_spike.max(1) as f64;
    svg += &format!(
        "<text x=\"330\" y=\"20\">resident after each night vs before the first day: {}</text>\n",
        nights
            .iter()
            .map(|&n| format!("{:.2}", n as f64 / first))
            .collect::<Vec<_>>()
            .join(" ")
    );
    svg += "</svg>\n";
    svg
}
