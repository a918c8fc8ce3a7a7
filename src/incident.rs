//! Root causes, not lines: symptom attribution and incidents.
//!
//! The classifier says what each line says. A kubelet that cannot pull an
//! image logs the cause once per attempt (`ErrImagePull ... 401
//! Unauthorized`) and, between attempts, only the symptom (`Back-off
//! pulling image "x"`): counted by line, the back-off outnumbers its own
//! cause. This module turns the reported lines of a whole run into what a
//! reader wants to act on:
//!
//! - **Attribution.** A symptom-only line (a cause whose id starts with
//!   `symptom.`) is attributed to the root cause last seen, in time order,
//!   for the same image and scope (the pod or app revision), else for the
//!   same image in any scope, else for the same scope when the symptom
//!   names no image (an ACA `Persistent Image Pull Errors` line names only
//!   its revision).
//! - **Incidents.** A run of failures of one image for one (attributed)
//!   cause, split where the image is quiet for longer than a gap. Twenty
//!   retries of one broken tag are one incident; the same tag failing
//!   again the next morning is a second.
//!
//! It works on [`Mark`]s, the few fields of each reported line that this
//! needs, collected during the scan beside the per-cause aggregates, and
//! runs once, sequentially, after the parallel scan: attribution follows
//! time across inputs (a kubelet log and a containerd log of one node), so
//! it cannot be done per chunk. Lines without a time take the time of the
//! line before them in the same input.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap, HashSet};

use crate::time::Timestamp;

/// The fields of one reported line that attribution and incidents need,
/// packed into 48 bytes: a run keeps up to [`crate::summary::MARK_CAP`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    secs: i64,
    line: u64,
    /// A hash of the normalised image; 0 when the line names none.
    pub image: u64,
    /// A hash of the pod (namespace and name) or app revision; 0 when the
    /// line says neither.
    pub scope: u64,
    /// Nanoseconds, [`NAIVE`] set for a time without a zone; [`NO_TIME`]
    /// for a line without a time.
    nanos: u32,
    input: u32,
    /// Occurrences the line stands for.
    pub count: u32,
    /// Cause index; [`NO_CAUSE`] for unclassified lines.
    cause: u32,
}

const NAIVE: u32 = 1 << 31;
const NO_TIME: u32 = u32::MAX;
const NO_CAUSE: u32 = u32::MAX;

impl Mark {
    /// A mark for the line at `at` (input index and 1-based line).
    pub fn new(
        at: (usize, u64),
        time: Option<Timestamp>,
        cause: Option<usize>,
        count: u32,
        image: u64,
        scope: u64,
    ) -> Mark {
        let mut m = Mark {
            secs: 0,
            line: at.1,
            image,
            scope,
            nanos: NO_TIME,
            input: u32::try_from(at.0).unwrap_or(u32::MAX),
            count,
            cause: cause.and_then(|c| u32::try_from(c).ok()).unwrap_or(NO_CAUSE),
        };
        m.set_time(time);
        m
    }

    /// Input index and 1-based line.
    pub fn at(&self) -> (usize, u64) {
        (self.input as usize, self.line)
    }

    /// When the line says it was written.
    pub fn time(&self) -> Option<Timestamp> {
        let t = Timestamp {
            secs: self.secs,
            nanos: self.nanos & !NAIVE,
            naive: self.nanos & NAIVE != 0,
        };
        (self.nanos != NO_TIME).then_some(t)
    }

    fn set_time(&mut self, time: Option<Timestamp>) {
        (self.secs, self.nanos) = match time {
            Some(t) => (t.secs, t.nanos.min(999_999_999) | if t.naive { NAIVE } else { 0 }),
            None => (0, NO_TIME),
        };
    }

    /// Cause index; `None` for unclassified lines.
    pub fn cause(&self) -> Option<usize> {
        (self.cause != NO_CAUSE).then_some(self.cause as usize)
    }
}

/// Per cause, after attribution.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CauseIncidents {
    /// Incidents of this cause.
    pub incidents: u64,
    /// Distinct images in them (lines without an image not counted).
    pub images: u64,
    /// For a root cause: symptom occurrences attributed to it.
    pub attributed_in: u64,
    /// For a symptom: its occurrences attributed to a root cause.
    pub attributed_out: u64,
}

/// One incident: failures of one image for one cause, no quiet gap
/// longer than the configured one between them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incident {
    /// Cause index (after attribution); `None` for unclassified lines.
    pub cause: Option<usize>,
    /// Image hash; 0 for lines without an image.
    pub image: u64,
    /// Earliest time in it.
    pub first: Option<Timestamp>,
    /// Latest time in it.
    pub last: Option<Timestamp>,
    /// Occurrences, symptoms attributed to it included.
    pub occurrences: u64,
    /// Lines.
    pub lines: u64,
    /// Of the occurrences, symptoms attributed to the cause.
    pub attributed: u64,
    /// The earliest line of it.
    pub at: (usize, u64),
}

/// What [`analyse`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Analysis {
    /// Per cause index (`None`: unclassified).
    pub causes: HashMap<Option<usize>, CauseIncidents>,
    /// The largest incidents, most occurrences first (ties: the earliest
    /// first), at most the `top` asked for.
    pub incidents: Vec<Incident>,
    /// Occurrences of symptom-only lines.
    pub symptoms: u64,
    /// Of those, attributed to a root cause.
    pub attributed: u64,
}

/// How [`analyse`] works.
pub struct Params<'a> {
    /// Whether a cause index is a symptom.
    pub is_symptom: &'a dyn Fn(usize) -> bool,
    /// Whether an image hash is one of the images tracked one by one;
    /// the others are tracked together as [`OTHER_IMAGES`], so that state
    /// stays bounded however many distinct images a log names.
    pub known_image: &'a dyn Fn(u64) -> bool,
    /// The longest quiet time within one incident, in seconds.
    pub gap_secs: i64,
    /// Incidents to return.
    pub top: usize,
}

/// The image key of the images past the tracked ones.
pub const OTHER_IMAGES: u64 = u64::MAX;

/// Entries kept in each table of last-seen causes by scope: pods are as
/// unbounded as images. Past it, new scopes are not remembered.
pub const SCOPE_CAP: usize = 100_000;

/// Attribute symptoms and split incidents. `marks` are sorted into time
/// order. Memory: the open incidents (one per cause and tracked image)
/// and the last-seen tables, each bounded, besides the marks themselves.
pub fn analyse(marks: &mut [Mark], p: &Params<'_>) -> Analysis {
    order_by_time(marks);
    let mut a = Analysis::default();
    // The root cause last seen per (image, scope), per image, per scope.
    let mut by_both: HashMap<(u64, u64), usize> = HashMap::new();
    let mut by_image: HashMap<u64, usize> = HashMap::new();
    let mut by_scope: HashMap<u64, usize> = HashMap::new();
    // The open incident per (cause, image), and the largest closed ones.
    let mut open: HashMap<(Option<usize>, u64), Incident> = HashMap::new();
    let mut top = Top::new(p.top);
    let mut images: HashSet<(Option<usize>, u64)> = HashSet::new();
    for m in marks.iter() {
        let n = u64::from(m.count.max(1));
        let image = match m.image {
            0 => 0,
            h if (p.known_image)(h) => h,
            _ => OTHER_IMAGES,
        };
        let mut cause = m.cause();
        let mut attributed = false;
        match m.cause() {
            Some(c) if (p.is_symptom)(c) => {
                a.symptoms += n;
                let root = (image != 0 && m.scope != 0)
                    .then(|| by_both.get(&(image, m.scope)))
                    .flatten()
                    .or_else(|| (image != 0).then(|| by_image.get(&image)).flatten())
                    .or_else(|| {
                        (image == 0 && m.scope != 0).then(|| by_scope.get(&m.scope)).flatten()
                    });
                if let Some(&root) = root {
                    a.attributed += n;
                    a.causes.entry(Some(c)).or_default().attributed_out += n;
                    a.causes.entry(Some(root)).or_default().attributed_in += n;
                    cause = Some(root);
                    attributed = true;
                }
            }
            Some(c) => {
                if image != 0 {
                    by_image.insert(image, c);
                    if m.scope != 0 {
                        remember(&mut by_both, (image, m.scope), c);
                    }
                }
                if m.scope != 0 {
                    remember(&mut by_scope, m.scope, c);
                }
            }
            None => {}
        }
        let key = (cause, image);
        let time = m.time();
        let quiet = open.get(&key).is_some_and(|inc| match (inc.last, time) {
            (Some(last), Some(t)) => t.secs - last.secs > p.gap_secs,
            _ => false,
        });
        if quiet {
            if let Some(done) = open.remove(&key) {
                top.offer(done);
            }
        }
        let inc = open.entry(key).or_insert_with(|| {
            a.causes.entry(cause).or_default().incidents += 1;
            if image != 0 {
                images.insert(key);
            }
            Incident {
                cause,
                image,
                first: time,
                last: time,
                occurrences: 0,
                lines: 0,
                attributed: 0,
                at: m.at(),
            }
        });
        inc.occurrences += n;
        inc.lines += 1;
        if attributed {
            inc.attributed += n;
        }
        if time.is_some() {
            inc.first = inc.first.or(time);
            inc.last = time;
        }
    }
    for (_, done) in open {
        top.offer(done);
    }
    for (cause, _) in images {
        a.causes.entry(cause).or_default().images += 1;
    }
    a.incidents = top.into_sorted();
    a
}

/// Insert unless the table is full (new keys are then not remembered).
fn remember<K: std::hash::Hash + Eq>(table: &mut HashMap<K, usize>, key: K, cause: usize) {
    if table.len() < SCOPE_CAP || table.contains_key(&key) {
        table.insert(key, cause);
    }
}

/// The `k` largest incidents seen: most occurrences, then earliest.
struct Top {
    k: usize,
    heap: BinaryHeap<Reverse<Ranked>>,
}

/// An incident ordered by size: more occurrences, then an earlier start,
/// is greater.
struct Ranked(Incident);

impl Ranked {
    fn key(&self) -> (u64, Reverse<(usize, u64)>) {
        (self.0.occurrences, Reverse(self.0.at))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Ranked) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Ranked) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Ranked) -> Ordering {
        self.key().cmp(&other.key())
    }
}

impl Top {
    fn new(k: usize) -> Top {
        Top { k, heap: BinaryHeap::with_capacity(k + 1) }
    }

    fn offer(&mut self, inc: Incident) {
        self.heap.push(Reverse(Ranked(inc)));
        if self.heap.len() > self.k {
            self.heap.pop();
        }
    }

    fn into_sorted(self) -> Vec<Incident> {
        // Ascending `Reverse` is descending size.
        self.heap.into_sorted_vec().into_iter().map(|Reverse(Ranked(i))| i).collect()
    }
}

/// Sort marks into time order. A line without a time takes the time of
/// the line before it in the same input (marks arrive in input order), so
/// it sorts, joins incidents and spans them as that line; ties, and lines
/// before any time, keep input order. In place: marks may be many.
fn order_by_time(marks: &mut [Mark]) {
    marks.sort_unstable_by_key(Mark::at);
    let mut last: Option<(u32, Timestamp)> = None;
    for m in marks.iter_mut() {
        match m.time() {
            Some(t) => last = Some((m.input, t)),
            None => m.set_time(last.filter(|&(input, _)| input == m.input).map(|(_, t)| t)),
        }
    }
    marks.sort_unstable_by_key(|m| (m.nanos != NO_TIME, m.secs, m.nanos & !NAIVE, m.at()));
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKOFF: usize = 9;
    const AUTH: usize = 1;
    const DNS: usize = 2;

    fn t(secs: i64) -> Option<Timestamp> {
        Some(Timestamp { secs, nanos: 0, naive: false })
    }

    fn mark(line: u64, time: Option<Timestamp>, cause: usize, image: u64, scope: u64) -> Mark {
        Mark::new((0, line), time, Some(cause), 1, image, scope)
    }

    fn in_input(input: usize, m: Mark) -> Mark {
        Mark::new((input, m.line), m.time(), m.cause(), m.count, m.image, m.scope)
    }

    fn run(marks: &mut [Mark]) -> Analysis {
        let p = Params {
            is_symptom: &|c| c == BACKOFF,
            known_image: &|_| true,
            gap_secs: 600,
            top: 10,
        };
        analyse(marks, &p)
    }

    #[test]
    fn symptoms_go_to_the_cause_last_seen_for_their_image() {
        let mut marks = vec![
            mark(1, t(0), AUTH, 7, 1),
            mark(2, t(10), BACKOFF, 7, 1),
            mark(3, t(20), DNS, 8, 2),
            mark(4, t(30), BACKOFF, 8, 2),
            mark(5, t(40), BACKOFF, 7, 1),
            // Image 9 never had a cause line: stays a symptom.
            mark(6, t(50), BACKOFF, 9, 3),
        ];
        let a = run(&mut marks);
        assert_eq!((a.symptoms, a.attributed), (4, 3));
        assert_eq!(a.causes[&Some(AUTH)].attributed_in, 2);
        assert_eq!(a.causes[&Some(DNS)].attributed_in, 1);
        assert_eq!(a.causes[&Some(BACKOFF)].attributed_out, 3);
        assert_eq!(a.causes[&Some(BACKOFF)].incidents, 1);
        assert_eq!(a.causes[&Some(AUTH)].incidents, 1);
        let auth: Vec<_> = a.incidents.iter().filter(|i| i.cause == Some(AUTH)).collect();
        assert_eq!((auth[0].occurrences, auth[0].attributed, auth[0].lines), (3, 2, 3));
    }

    #[test]
    fn time_order_across_inputs_decides() {
        // The cause is in input 1 (containerd), written before the
        // back-off in input 0 (kubelet) that comes first by position.
        let mut marks = vec![
            in_input(0, mark(1, t(100), BACKOFF, 7, 0)),
            in_input(1, mark(1, t(90), AUTH, 7, 0)),
            // A later back-off than a second cause goes to the second.
            in_input(1, mark(2, t(200), DNS, 7, 0)),
            in_input(0, mark(2, t(210), BACKOFF, 7, 0)),
        ];
        let a = run(&mut marks);
        assert_eq!(a.causes[&Some(AUTH)].attributed_in, 1);
        assert_eq!(a.causes[&Some(DNS)].attributed_in, 1);
    }

    #[test]
    fn scope_narrows_and_stands_in_for_a_missing_image() {
        let mut marks = vec![
            mark(1, t(0), AUTH, 7, 1),
            mark(2, t(1), DNS, 7, 2),
            // Same image, scope 1: its own scope's cause, not the latest.
            mark(3, t(2), BACKOFF, 7, 1),
            // Same image, an unknown scope: the image's latest cause.
            mark(4, t(3), BACKOFF, 7, 5),
            // No image: the scope's cause.
            mark(5, t(4), BACKOFF, 0, 1),
        ];
        let a = run(&mut marks);
        assert_eq!(a.causes[&Some(AUTH)].attributed_in, 2);
        assert_eq!(a.causes[&Some(DNS)].attributed_in, 1);
    }

    #[test]
    fn a_quiet_gap_splits_incidents() {
        let mut marks = vec![
            mark(1, t(0), AUTH, 7, 0),
            mark(2, t(600), AUTH, 7, 0),
            mark(3, t(1201), AUTH, 7, 0),
            // Untimed: joins the open incident, takes line 3's time.
            mark(4, None, AUTH, 7, 0),
            mark(5, t(1300), AUTH, 8, 0),
        ];
        let a = run(&mut marks);
        let c = &a.causes[&Some(AUTH)];
        assert_eq!((c.incidents, c.images), (3, 2));
        // Largest first; equal sizes: the earliest first.
        let lines: Vec<u64> = a.incidents.iter().map(|i| i.lines).collect();
        assert_eq!(lines, vec![2, 2, 1]);
        assert_eq!(a.incidents[0].first, t(0));
        assert_eq!(a.incidents[0].last, t(600));
        assert_eq!(a.incidents[1].first, t(1201));
    }

    #[test]
    fn untracked_images_are_tracked_together_and_top_is_bounded() {
        let mut marks: Vec<Mark> =
            (1..=20).map(|i| mark(i, t(i as i64), AUTH, 100 + i, 0)).collect();
        marks.push(mark(21, t(30), BACKOFF, 105, 0));
        marks.push(mark(22, t(31), BACKOFF, 115, 0));
        let p = Params {
            is_symptom: &|c| c == BACKOFF,
            known_image: &|h| h < 110,
            gap_secs: 600,
            top: 3,
        };
        let a = analyse(&mut marks, &p);
        let c = &a.causes[&Some(AUTH)];
        // Nine images one by one, eleven as one: ten incidents, ten keys.
        assert_eq!((c.incidents, c.images, c.attributed_in), (10, 10, 2));
        assert_eq!(a.incidents.len(), 3);
        assert_eq!(a.incidents[0].image, OTHER_IMAGES);
        assert_eq!(a.incidents[0].occurrences, 12);
        assert_eq!(a.incidents[1].image, 105);
        assert_eq!(a.incidents[2].image, 101);
    }

    #[test]
    fn marks_are_small_and_keep_their_fields() {
        assert_eq!(std::mem::size_of::<Mark>(), 48);
        let t = Timestamp { secs: -5, nanos: 999_999_999, naive: true };
        let m = Mark::new((3, 1 << 40), Some(t), None, 7, 1, 2);
        assert_eq!((m.at(), m.time(), m.cause(), m.count), ((3, 1 << 40), Some(t), None, 7));
        let m = Mark::new((0, 1), None, Some(4), 1, 0, 0);
        assert_eq!((m.time(), m.cause()), (None, Some(4)));
    }

    #[test]
    fn untimed_lines_keep_input_order() {
        let mut marks = vec![
            mark(1, None, AUTH, 7, 0),
            mark(2, None, BACKOFF, 7, 0),
            mark(3, None, BACKOFF, 8, 0),
        ];
        let a = run(&mut marks);
        assert_eq!((a.symptoms, a.attributed), (2, 1));
        assert_eq!(a.causes[&Some(AUTH)].incidents, 1);
    }
}
