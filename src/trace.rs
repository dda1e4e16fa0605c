//! `--trace FILE.json`: a timeline of the run, one track per rank, in
//! Chrome's trace-event format (opens in Perfetto, ui.perfetto.dev, and in
//! chrome://tracing). It is the picture HPC users reach for to see load
//! imbalance and waiting: which rank computed while which waited, round
//! by round.
//!
//! The driver records, per rank, a span for each round's work (split into
//! the workload's own phases where it keeps them: heat's stencil and halo
//! wait), the stop/fault check (a collective: a rank that arrives early
//! waits there), what follows a round (heat's snapshots), checkpoints and
//! the finish (gather, validate, write). Times are `MPI_Wtime` from the
//! barrier that starts the loop, so the ranks' tracks line up to within
//! that barrier's skew. A workload's phases are drawn end to end inside
//! their round with their measured durations; where they interleave in
//! time (heat's overlapped halo exchange) the layout is schematic, the
//! lengths are not.
//!
//! Recording is a push of three numbers per span into a vector reserved up
//! front, and nothing at all when the trace is off. At most
//! [`MAX_SPANS`] spans are kept per rank (about 5 MB of JSON); later ones
//! are counted and the file says how many were dropped.

/// Spans kept per rank.
pub const MAX_SPANS: usize = 100_000;

/// One interval of a rank's time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub name: &'static str,
    /// Seconds since the trace's origin.
    pub start: f64,
    pub dur: f64,
}

/// A rank's recorder; off (and free) unless asked for.
#[derive(Debug, Default)]
pub struct Trace {
    recording: Option<Recording>,
}

#[derive(Debug)]
struct Recording {
    origin: f64,
    spans: Vec<Span>,
    dropped: u64,
}

impl Trace {
    /// A recorder: on when `on`, times counted from `origin` (MPI_Wtime).
    pub fn new(on: bool, origin: f64) -> Self {
        Self {
            recording: on.then(|| Recording {
                origin,
                spans: Vec::with_capacity(4096),
                dropped: 0,
            }),
        }
    }

    pub fn is_on(&self) -> bool {
        self.recording.is_some()
    }

    /// Record `name` from `start` to `end` (MPI_Wtime seconds).
    pub fn span(&mut self, name: &'static str, start: f64, end: f64) {
        if let Some(r) = &mut self.recording {
            if r.spans.len() < MAX_SPANS {
                r.spans.push(Span {
                    name,
                    start: start - r.origin,
                    dur: (end - start).max(0.0),
                });
            } else {
                r.dropped += 1;
            }
        }
    }

    /// A round from `start` to `end`, with the workload's phases (name,
    /// seconds) drawn end to end inside it: named `round` when there are
    /// phases, `compute` when there are none.
    pub fn round(&mut self, start: f64, end: f64, phases: &[(&'static str, f64)]) {
        if phases.is_empty() {
            return self.span("compute", start, end);
        }
        self.span("round", start, end);
        let mut at = start;
        for &(name, secs) in phases.iter().filter(|(_, secs)| *secs > 0.0) {
            self.span(name, at, at + secs);
            at += secs;
        }
    }

    /// This rank's spans as JSON, `[[[name, start, dur], ...], dropped]`
    /// (what rank 0 gathers and [`Track::decode`] reads).
    pub fn encode(&self) -> String {
        let (spans, dropped) = self
            .recording
            .as_ref()
            .map_or((&[][..], 0), |r| (&r.spans[..], r.dropped));
        let spans: Vec<_> = spans.iter().map(|s| (s.name, s.start, s.dur)).collect();
        serde_json::to_string(&(spans, dropped)).unwrap_or_default()
    }
}

/// One rank's gathered track.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    pub rank: usize,
    pub host: String,
    pub spans: Vec<(String, f64, f64)>,
    pub dropped: u64,
}

impl Track {
    /// The track from a rank's [`Trace::encode`] text.
    pub fn decode(rank: usize, host: String, text: &str) -> Result<Self, String> {
        let (spans, dropped) = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Ok(Self {
            rank,
            host,
            spans,
            dropped,
        })
    }
}

/// The trace-event JSON of every rank's track: complete events ("ph":
/// "X", microseconds) on one process, a thread per rank named "rank R
/// (host)"; `meta` (workload, ranks, ...) in the file's metadata.
pub fn chrome_json(tracks: &[Track], meta: serde_json::Value) -> String {
    let mut events = Vec::new();
    for t in tracks {
        events.push(serde_json::json!({
            "name": "thread_name", "ph": "M", "pid": 0, "tid": t.rank,
            "args": {"name": format!("rank {} ({})", t.rank, t.host)}
        }));
        events.push(serde_json::json!({
            "name": "thread_sort_index", "ph": "M", "pid": 0, "tid": t.rank,
            "args": {"sort_index": t.rank}
        }));
        for (name, start, dur) in &t.spans {
            events.push(serde_json::json!({
                "name": name, "cat": "parsim", "ph": "X", "pid": 0, "tid": t.rank,
                "ts": start * 1e6, "dur": dur * 1e6
            }));
        }
    }
    let dropped: u64 = tracks.iter().map(|t| t.dropped).sum();
    let mut meta = meta;
    meta["spans_dropped"] = dropped.into();
    meta["max_spans_per_rank"] = MAX_SPANS.into();
    serde_json::to_string(&serde_json::json!({
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": meta,
    }))
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_records_nothing() {
        let mut t = Trace::default();
        t.span("compute", 1.0, 2.0);
        assert!(!t.is_on());
        assert_eq!(t.encode(), "[[],0]");
    }

    #[test]
    fn rounds_and_phases_round_trip_to_chrome_events() {
        let mut t = Trace::new(true, 10.0);
        t.round(10.5, 11.0, &[("stencil", 0.3), ("halo wait", 0.1)]);
        t.round(11.0, 11.25, &[]);
        t.span("check", 11.25, 11.0);
        let track = Track::decode(1, "node7".into(), &t.encode()).unwrap();
        assert_eq!(track.spans.len(), 5);
        assert_eq!(track.spans[0], ("round".into(), 0.5, 0.5));
        assert_eq!(track.spans[2].0, "halo wait");
        assert!((track.spans[2].1 - 0.8).abs() < 1e-12, "after the stencil");
        assert_eq!(track.spans[3], ("compute".into(), 1.0, 0.25));
        assert_eq!(track.spans[4].2, 0.0, "never negative");
        let json = chrome_json(&[track], serde_json::json!({"workload": "heat"}));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let events = v["traceEvents"].as_array().unwrap();
        assert_eq!(events.len(), 7);
        assert_eq!(events[0]["args"]["name"], "rank 1 (node7)");
        assert_eq!(events[2]["ts"], 500000.0);
        assert_eq!(events[2]["tid"], 1);
        assert_eq!(v["otherData"]["workload"], "heat");
    }

    #[test]
    fn spans_beyond_the_cap_are_counted_not_kept() {
        let mut t = Trace::new(true, 0.0);
        for k in 0..MAX_SPANS + 7 {
            t.span("compute", k as f64, k as f64 + 0.5);
        }
        let track = Track::decode(0, "h".into(), &t.encode()).unwrap();
        assert_eq!((track.spans.len(), track.dropped), (MAX_SPANS, 7));
    }
}
