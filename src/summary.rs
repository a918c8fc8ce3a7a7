//! Aggregation: per-cause counts and samples, merged across chunks.
//!
//! The scanner turns every reported line into an [`Event`] and adds it to a
//! [`Summary`]; summaries of chunks scanned in parallel merge with `+=` and
//! give the same result as one sequential pass (every choice of "which
//! sample" or "which registry host" takes the earliest position, never the
//! first to arrive). [`Summary::finish`] turns the aggregate into a
//! [`Report`]: causes ranked, top-k lists cut, remediation chosen for the
//! registry kinds seen with the real host filled in. Output prints a
//! `Report` and computes nothing.
//!
//! Every distinct-key map is capped ([`Tally`]): past the cap, new keys are
//! counted under `other`, so memory stays bounded on hostile input.

use std::collections::{BTreeMap, HashMap};
use std::ops::AddAssign;

use crate::image::{ImageRef, RegistryKind};
use crate::incident::{self, Mark};
use crate::record::{Emitter, Envelope, Format};
use crate::rules::{Remediation, RuleSet};
use crate::time::Timestamp;

/// Distinct keys kept per tally before new keys go to `other`.
pub const TALLY_CAP: usize = 10_000;
/// Entries shown in each top list of a report.
pub const TOP_K: usize = 5;

/// Where a line is: input index and 1-based line number. Orders positions
/// across inputs and chunks.
pub type Position = (usize, u64);

/// One reported line (a failure, classified or not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Input index and 1-based line number.
    pub at: Position,
    /// When the line says it was written.
    pub time: Option<Timestamp>,
    /// Envelope unwrapped, if any.
    pub envelope: Option<Envelope>,
    /// Payload format.
    pub format: Format,
    /// Who wrote it.
    pub emitter: Emitter,
    /// Winning rule; `None` for unclassified lines.
    pub rule: Option<usize>,
    /// Cause index; `None` for unclassified lines.
    pub cause: Option<usize>,
    /// The image the line is about, parsed.
    pub image: Option<ImageRef>,
    /// The registry host the line talks to (from the image or a URL).
    pub registry: Option<String>,
    /// Where it happened: node, pod, container, app revision.
    pub origin: Origin,
    /// Occurrences this line stands for (`(x3 over 50s)`).
    pub count: u32,
    /// The message as classified.
    pub message: String,
}

/// Where a line happened, as far as it says: node, Kubernetes pod and
/// container, Azure Container Apps app, revision and replica.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// Node or host.
    pub host: Option<String>,
    /// Kubernetes pod.
    pub pod: Option<String>,
    /// Kubernetes namespace.
    pub namespace: Option<String>,
    /// Container.
    pub container: Option<String>,
    /// Azure Container Apps app.
    pub app: Option<String>,
    /// Azure Container Apps revision.
    pub revision: Option<String>,
    /// Azure Container Apps replica.
    pub replica: Option<String>,
}

impl Event {
    /// The registry kind of the line's registry.
    pub fn registry_kind(&self) -> Option<RegistryKind> {
        self.registry.as_deref().map(RegistryKind::from_host)
    }
}

/// A capped count of distinct keys.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    counts: HashMap<String, u64>,
    /// Occurrences of keys that arrived after the cap was reached.
    pub other: u64,
}

impl Tally {
    /// Count `n` occurrences of `key`.
    pub fn add(&mut self, key: &str, n: u64) {
        if let Some(c) = self.counts.get_mut(key) {
            *c += n;
        } else if self.counts.len() < TALLY_CAP {
            self.counts.insert(key.to_string(), n);
        } else {
            self.other += n;
        }
    }

    /// The count of one key (0 when absent or cut off by the cap).
    pub fn get(&self, key: &str) -> u64 {
        self.counts.get(key).copied().unwrap_or(0)
    }

    /// Whether keys arrived after the cap and went to `other`.
    pub fn capped(&self) -> bool {
        self.other > 0
    }

    /// Whether any key was counted.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty() && self.other == 0
    }

    /// Number of distinct keys kept.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// The `k` most frequent keys, ties by key; `other` last if non-zero.
    pub fn top(&self, k: usize) -> Vec<(String, u64)> {
        let mut v: Vec<(&String, &u64)> = self.counts.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let mut out: Vec<(String, u64)> =
            v.into_iter().take(k).map(|(s, n)| (s.clone(), *n)).collect();
        if self.other > 0 {
            out.push(("other".into(), self.other));
        }
        out
    }
}

impl AddAssign<&Tally> for Tally {
    fn add_assign(&mut self, rhs: &Tally) {
        for (k, n) in &rhs.counts {
            self.add(k, *n);
        }
        self.other += rhs.other;
    }
}

/// The earliest-positioned example of something.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Earliest<T> {
    at: Position,
    value: T,
}

/// Keep `make()` as the example if `at` is earlier than the one kept; the
/// value is only built when it is kept (lines mostly arrive in order, so
/// almost never).
fn offer_earliest<T>(slot: &mut Option<Earliest<T>>, at: Position, make: impl FnOnce() -> T) {
    if slot.as_ref().is_none_or(|s| at < s.at) {
        *slot = Some(Earliest { at, value: make() });
    }
}

fn keep_earliest<T: Clone>(slot: &mut Option<Earliest<T>>, other: &Option<Earliest<T>>) {
    if let Some(o) = other {
        if slot.as_ref().is_none_or(|s| o.at < s.at) {
            *slot = Some(o.clone());
        }
    }
}

/// Aggregates for one cause (or for unclassified lines).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CauseStats {
    /// Occurrences (a line with `(x3 over ...)` counts 3).
    pub occurrences: u64,
    /// Lines.
    pub lines: u64,
    /// Images, normalised.
    pub images: Tally,
    /// Registry hosts.
    pub registries: Tally,
    /// Nodes / hosts.
    pub hosts: Tally,
    /// Pods (`namespace/pod`).
    pub pods: Tally,
    /// Winning rule ids.
    pub rules: Tally,
    /// Earliest time seen.
    pub first: Option<Timestamp>,
    /// Latest time seen.
    pub last: Option<Timestamp>,
    sample: Option<Earliest<String>>,
    /// Per registry kind, the earliest line's registry host and image.
    kinds: BTreeMap<RegistryKind, Earliest<(String, Option<ImageRef>)>>,
}

impl CauseStats {
    /// Count one event; `image` is its image as text (the caller needs it
    /// too, so it is formatted once).
    fn add(&mut self, ev: &Event, image: Option<&str>, rules: &RuleSet) {
        let n = u64::from(ev.count.max(1));
        self.occurrences += n;
        self.lines += 1;
        if let Some(img) = image {
            self.images.add(img, n);
        }
        if let Some(reg) = &ev.registry {
            self.registries.add(reg, n);
            let kind = RegistryKind::from_host(reg);
            let mut slot = self.kinds.remove(&kind);
            offer_earliest(&mut slot, ev.at, || (reg.clone(), ev.image.clone()));
            if let Some(s) = slot {
                self.kinds.insert(kind, s);
            }
        }
        if let Some(h) = &ev.origin.host {
            self.hosts.add(h, n);
        }
        if let Some(p) = &ev.origin.pod {
            match &ev.origin.namespace {
                Some(ns) => self.pods.add(&format!("{ns}/{p}"), n),
                None => self.pods.add(p, n),
            }
        }
        if let Some(r) = ev.rule {
            self.rules.add(&rules.rules[r].id, n);
        }
        if let Some(t) = ev.time {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
        offer_earliest(&mut self.sample, ev.at, || ev.message.clone());
    }
}

impl CauseStats {
    /// Whether any of its lists went over the cap.
    fn capped(&self) -> bool {
        [&self.images, &self.registries, &self.hosts, &self.pods, &self.rules]
            .iter()
            .any(|t| t.capped())
    }
}

impl AddAssign<&CauseStats> for CauseStats {
    fn add_assign(&mut self, rhs: &CauseStats) {
        self.occurrences += rhs.occurrences;
        self.lines += rhs.lines;
        self.images += &rhs.images;
        self.registries += &rhs.registries;
        self.hosts += &rhs.hosts;
        self.pods += &rhs.pods;
        self.rules += &rhs.rules;
        self.first = min_time(self.first, rhs.first);
        self.last = max_time(self.last, rhs.last);
        keep_earliest(&mut self.sample, &rhs.sample);
        for (kind, e) in &rhs.kinds {
            let mut slot = self.kinds.remove(kind);
            keep_earliest(&mut slot, &Some(e.clone()));
            if let Some(s) = slot {
                self.kinds.insert(*kind, s);
            }
        }
    }
}

/// A field to group reported lines by (`--by`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupKey {
    /// The cause id.
    Cause,
    /// The registry host.
    Registry,
    /// The normalised image.
    Image,
    /// The node / host.
    Node,
    /// `namespace/pod`.
    Pod,
    /// The Kubernetes namespace.
    Namespace,
    /// The Azure Container Apps revision.
    Revision,
}

impl GroupKey {
    /// Every key, in the order `--help` lists them.
    pub const ALL: [GroupKey; 7] = [
        GroupKey::Cause,
        GroupKey::Registry,
        GroupKey::Image,
        GroupKey::Node,
        GroupKey::Pod,
        GroupKey::Namespace,
        GroupKey::Revision,
    ];

    /// The name used on the command line and in output.
    pub fn name(self) -> &'static str {
        match self {
            GroupKey::Cause => "cause",
            GroupKey::Registry => "registry",
            GroupKey::Image => "image",
            GroupKey::Node => "node",
            GroupKey::Pod => "pod",
            GroupKey::Namespace => "namespace",
            GroupKey::Revision => "revision",
        }
    }

    /// Parse a name.
    pub fn from_name(name: &str) -> Option<GroupKey> {
        GroupKey::ALL.into_iter().find(|k| k.name() == name)
    }

    fn value(self, ev: &Event, rules: &RuleSet) -> String {
        let or_none = |v: Option<&String>| v.cloned().unwrap_or_else(|| "-".to_string());
        match self {
            GroupKey::Cause => {
                ev.cause.map_or(UNCLASSIFIED.to_string(), |c| rules.causes[c].id.clone())
            }
            GroupKey::Registry => or_none(ev.registry.as_ref()),
            GroupKey::Image => ev.image.as_ref().map_or("-".to_string(), ToString::to_string),
            GroupKey::Node => or_none(ev.origin.host.as_ref()),
            GroupKey::Pod => match (&ev.origin.namespace, &ev.origin.pod) {
                (Some(ns), Some(p)) => format!("{ns}/{p}"),
                (None, Some(p)) => p.clone(),
                _ => "-".to_string(),
            },
            GroupKey::Namespace => or_none(ev.origin.namespace.as_ref()),
            GroupKey::Revision => or_none(ev.origin.revision.as_ref()),
        }
    }
}

/// Aggregates for one `--by` group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupStats {
    /// Occurrences.
    pub occurrences: u64,
    /// Lines.
    pub lines: u64,
    /// Causes (ids).
    pub causes: Tally,
    /// Images.
    pub images: Tally,
    /// Earliest time seen.
    pub first: Option<Timestamp>,
    /// Latest time seen.
    pub last: Option<Timestamp>,
}

impl AddAssign<&GroupStats> for GroupStats {
    fn add_assign(&mut self, rhs: &GroupStats) {
        self.occurrences += rhs.occurrences;
        self.lines += rhs.lines;
        self.causes += &rhs.causes;
        self.images += &rhs.images;
        self.first = min_time(self.first, rhs.first);
        self.last = max_time(self.last, rhs.last);
    }
}

fn min_time(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_time(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Line accounting for one input (or, summed, for all).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Bytes read (after decompression).
    pub bytes: u64,
    /// Lines read.
    pub lines: u64,
    /// Lines the prefilter selected.
    pub candidate: u64,
    /// Candidate lines classified as a failure cause.
    pub classified: u64,
    /// Candidate lines about a failed pull that no rule matched.
    pub unclassified: u64,
    /// Candidate lines that are not failures (successes, look-alikes, other).
    pub benign: u64,
    /// Of the benign lines, successful pulls.
    pub successful: u64,
    /// Candidate lines outside `--since` / `--until`.
    pub outside_window: u64,
    /// Lines longer than the line limit, matched on their first bytes.
    pub truncated: u64,
    /// Reported lines (`classified` or `unclassified`) that repeat (same
    /// time, host and message) a line of an earlier input; left out of
    /// the summary unless `--no-dedup`. (A successful pull that repeats
    /// one stays in `successful` and is left out of the failure ratio.)
    pub duplicates: u64,
}

impl AddAssign<&Counts> for Counts {
    fn add_assign(&mut self, rhs: &Counts) {
        self.bytes += rhs.bytes;
        self.lines += rhs.lines;
        self.candidate += rhs.candidate;
        self.classified += rhs.classified;
        self.unclassified += rhs.unclassified;
        self.benign += rhs.benign;
        self.successful += rhs.successful;
        self.outside_window += rhs.outside_window;
        self.truncated += rhs.truncated;
        self.duplicates += rhs.duplicates;
    }
}

/// Error messages kept per input; more are counted in `errors_dropped`.
pub const MAX_ERRORS_KEPT: usize = 20;

impl InputStats {
    /// Record an error (a malformed row, a read error), keeping the first
    /// [`MAX_ERRORS_KEPT`] messages.
    pub fn add_error(&mut self, message: String) {
        if self.errors.len() < MAX_ERRORS_KEPT {
            self.errors.push(message);
        } else {
            self.errors_dropped += 1;
        }
    }

    /// All errors of this input, kept or not.
    pub fn error_count(&self) -> u64 {
        self.errors.len() as u64 + self.errors_dropped
    }
}

/// One input's accounting and errors.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InputStats {
    /// The path as given (`-` for stdin).
    pub path: String,
    /// Its line accounting.
    pub counts: Counts,
    /// Why it could not be read (fully), if it could not.
    pub errors: Vec<String>,
    /// Errors beyond [`MAX_ERRORS_KEPT`], counted only.
    pub errors_dropped: u64,
}

/// What one scan found: per-cause aggregates, accounting and (optionally)
/// the events themselves. Merges with `+=`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Per cause index; `None` is the unclassified bucket.
    pub causes: BTreeMap<Option<usize>, CauseStats>,
    /// Accounting per input index.
    pub inputs: BTreeMap<usize, InputStats>,
    /// Events in input order, when the caller asked for them.
    pub events: Vec<Event>,
    /// Reported (failure) lines per image, for the failure ratio.
    pub failed_images: Tally,
    /// Successful pulls per image.
    pub pulled_images: Tally,
    /// Successful pulls per registry.
    pub pulled_registries: Tally,
    /// `--by` groups, keyed by the joined group values.
    pub groups: BTreeMap<String, GroupStats>,
    /// What attribution and incidents need of each reported line, in
    /// input order, at most [`MARK_CAP`].
    pub marks: Vec<Mark>,
    /// Reported lines past [`MARK_CAP`]: counted in the aggregates, left
    /// out of attribution and incidents.
    pub marks_dropped: u64,
    /// Marks kept before this summary's lines in the whole run (by the
    /// summaries it will be merged into): a chunk collects only what the
    /// run still has room for, so chunks of a long log do not each hold
    /// [`MARK_CAP`] marks that the merge then drops.
    pub marks_before: usize,
    /// Image names by the hash marks carry, at most [`TALLY_CAP`].
    pub image_names: BTreeMap<u64, String>,
    /// Fingerprints of the reported lines, for finding their duplicates
    /// in later inputs (collected only when the scan asks for them).
    pub fingerprints: Vec<u64>,
    /// Fingerprints not remembered, past the cap of the scan.
    pub fingerprints_dropped: u64,
    /// Unclassified lines by template (variable parts masked), at most
    /// [`TEMPLATE_CAP`]; the rest under [`CAPPED_GROUP`].
    pub templates: BTreeMap<String, TemplateStats>,
}

/// Distinct templates of unclassified lines kept.
pub const TEMPLATE_CAP: usize = 1_000;
/// Samples kept per template.
pub const TEMPLATE_SAMPLES: usize = 3;
/// Templates shown in a report, most frequent first.
pub const TEMPLATES_SHOWN: usize = 10;

/// One template of unclassified lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TemplateStats {
    /// Occurrences.
    pub occurrences: u64,
    /// Lines.
    pub lines: u64,
    /// The earliest lines, by position.
    samples: Vec<(Position, String)>,
}

impl TemplateStats {
    fn offer(&mut self, at: Position, message: &str) {
        if self.samples.len() == TEMPLATE_SAMPLES
            && self.samples.last().is_some_and(|(last, _)| *last < at)
        {
            return;
        }
        let i = self.samples.partition_point(|(p, _)| *p < at);
        self.samples.insert(i, (at, message.to_string()));
        self.samples.truncate(TEMPLATE_SAMPLES);
    }
}

impl AddAssign<&TemplateStats> for TemplateStats {
    fn add_assign(&mut self, rhs: &TemplateStats) {
        self.occurrences += rhs.occurrences;
        self.lines += rhs.lines;
        for (at, m) in &rhs.samples {
            self.offer(*at, m);
        }
    }
}

/// Fingerprints remembered for finding duplicates across inputs (a
/// `HashSet<u64>` of this many is about 20 MB). Past it, lines of later
/// inputs may repeat ones not remembered: they are counted as
/// `fingerprints_dropped`.
pub const FINGERPRINT_CAP: usize = 1 << 20;

/// Reported lines kept for attribution and incidents (56 bytes each).
pub const MARK_CAP: usize = 200_000;

/// A non-zero hash of some strings, for marks and fingerprints. Not
/// randomised: equal in every chunk and run.
pub fn key_hash<'a>(parts: impl IntoIterator<Item = &'a str>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    for p in parts {
        p.hash(&mut h);
    }
    h.finish().max(1)
}

impl Event {
    /// The hash of the line's scope for attribution: its pod (namespace
    /// and name) or its app revision; 0 when it says neither.
    fn scope_hash(&self) -> u64 {
        let o = &self.origin;
        match (&o.pod, &o.revision) {
            (Some(p), _) => key_hash(["pod", o.namespace.as_deref().unwrap_or(""), p]),
            (None, Some(r)) => key_hash(["revision", o.app.as_deref().unwrap_or(""), r]),
            (None, None) => 0,
        }
    }
}

impl Summary {
    /// An empty summary of lines that come after `marks_before` marks
    /// already kept by the run (see [`Summary::marks_before`]).
    pub fn after(marks_before: usize) -> Summary {
        Summary { marks_before, ..Summary::default() }
    }

    /// Add one reported line; `by` adds it to its `--by` group too.
    pub fn add_event(&mut self, ev: Event, rules: &RuleSet, by: &[GroupKey], keep: bool) {
        let n = u64::from(ev.count.max(1));
        let image = ev.image.as_ref().map(ToString::to_string);
        self.causes.entry(ev.cause).or_default().add(&ev, image.as_deref(), rules);
        if let Some(img) = &image {
            self.failed_images.add(img, n);
        }
        if !by.is_empty() {
            let key: Vec<String> = by.iter().map(|k| k.value(&ev, rules)).collect();
            let g = capped_entry(&mut self.groups, key.join(" / "), GROUP_CAP);
            g.occurrences += n;
            g.lines += 1;
            g.causes.add(&GroupKey::Cause.value(&ev, rules), n);
            if let Some(img) = &image {
                g.images.add(img, n);
            }
            g.first = min_time(g.first, ev.time);
            g.last = max_time(g.last, ev.time);
        }
        if ev.cause.is_none() {
            self.add_template(&ev, n);
        }
        if self.marks_before + self.marks.len() < MARK_CAP {
            let image = image.as_deref().map_or(0, |img| {
                let h = key_hash([img]);
                if self.image_names.len() < TALLY_CAP {
                    self.image_names.entry(h).or_insert_with(|| img.to_string());
                }
                h
            });
            let scope = ev.scope_hash();
            self.marks.push(Mark::new(ev.at, ev.time, ev.cause, ev.count, image, scope));
        } else {
            self.marks_dropped += 1;
        }
        if keep {
            self.events.push(ev);
        }
    }

    /// Count an unclassified line under its template.
    fn add_template(&mut self, ev: &Event, n: u64) {
        let t = crate::template::template_cached(&ev.message);
        let t = capped_entry(&mut self.templates, t, TEMPLATE_CAP);
        t.occurrences += n;
        t.lines += 1;
        t.offer(ev.at, &ev.message);
    }

    /// Add one successful pull.
    pub fn add_success(&mut self, image: Option<&ImageRef>, registry: Option<&str>, n: u64) {
        if let Some(img) = image {
            self.pulled_images.add(&img.to_string(), n);
        }
        if let Some(r) = registry {
            self.pulled_registries.add(r, n);
        }
    }

    /// The accounting of one input.
    pub fn input_mut(&mut self, input: usize) -> &mut InputStats {
        self.inputs.entry(input).or_default()
    }

    /// Turn the aggregate into a report, with the default
    /// [`ReportOptions`].
    pub fn finish(self, rules: &RuleSet, input_names: &[String]) -> Report {
        self.finish_with(rules, input_names, &ReportOptions::default())
    }

    /// Turn the aggregate into a report: causes ranked, symptoms
    /// attributed ([`incident`]), incidents split, top-k lists cut.
    pub fn finish_with(
        mut self,
        rules: &RuleSet,
        input_names: &[String],
        opts: &ReportOptions,
    ) -> Report {
        let mut stats = Stats {
            dedup: opts.dedup,
            duplicates_unchecked: self.fingerprints_dropped,
            ..Stats::default()
        };
        for (i, name) in input_names.iter().enumerate() {
            let mut s = self.inputs.remove(&i).unwrap_or_default();
            s.path = name.clone();
            stats.total += &s.counts;
            stats.errors += s.error_count();
            stats.inputs.push(s);
        }
        let names = &self.image_names;
        let params = incident::Params {
            is_symptom: &|c| rules.causes[c].is_symptom(),
            known_image: &|h| names.contains_key(&h),
            gap_secs: opts.incident_gap_secs,
            top: INCIDENTS_SHOWN,
        };
        let analysis = incident::analyse(&mut self.marks, &params);
        let mut causes: Vec<CauseReport> = self
            .causes
            .iter()
            .map(|(c, st)| {
                let mut r = cause_report(*c, st, rules, input_names);
                let a = analysis.causes.get(c).cloned().unwrap_or_default();
                r.attributed_count = (r.count + a.attributed_in).saturating_sub(a.attributed_out);
                r.incidents = a.incidents;
                r.images_hit = a.images;
                r
            })
            .collect();
        causes.sort_by(|a, b| {
            let unc = |c: &CauseReport| c.cause == UNCLASSIFIED;
            unc(a).cmp(&unc(b)).then(b.count.cmp(&a.count)).then_with(|| a.cause.cmp(&b.cause))
        });
        let events = self.events.iter().map(|e| EventReport::new(e, rules, input_names)).collect();
        let images = image_health(&self.failed_images, &self.pulled_images);
        let mut groups: Vec<GroupReport> = self
            .groups
            .iter()
            .map(|(k, g)| GroupReport {
                key: k.clone(),
                count: g.occurrences,
                lines: g.lines,
                causes: g.causes.top(TOP_K),
                images: g.images.top(TOP_K),
                first_seen: g.first,
                last_seen: g.last,
            })
            .collect();
        groups.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        let pulled = self.pulled_registries.top(usize::MAX);
        let capped = self.causes.values().any(CauseStats::capped)
            || [&self.failed_images, &self.pulled_images, &self.pulled_registries]
                .iter()
                .any(|t| t.capped())
            || self.groups.len() > GROUP_CAP;
        let root_causes = root_causes(&causes, rules);
        let attribution = Attribution {
            symptoms: analysis.symptoms,
            attributed: analysis.attributed,
            incident_gap_secs: opts.incident_gap_secs,
            lines_left_out: self.marks_dropped,
        };
        let incidents = incident_reports(&analysis, &self.image_names, rules, input_names);
        let mut templates: Vec<TemplateReport> = self
            .templates
            .iter()
            .map(|(t, st)| TemplateReport {
                template: t.clone(),
                count: st.occurrences,
                lines: st.lines,
                samples: st
                    .samples
                    .iter()
                    .map(|(at, text)| Sample {
                        file: input_names.get(at.0).cloned().unwrap_or_default(),
                        line: at.1,
                        text: text.clone(),
                    })
                    .collect(),
            })
            .collect();
        templates.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.template.cmp(&b.template)));
        templates.truncate(TEMPLATES_SHOWN);
        let capped = capped || self.templates.len() > TEMPLATE_CAP;
        Report {
            stats,
            root_causes,
            causes,
            incidents,
            attribution,
            templates,
            events,
            images,
            groups,
            pulled_registries: pulled,
            capped,
        }
    }
}

impl AddAssign<Summary> for Summary {
    fn add_assign(&mut self, rhs: Summary) {
        for (c, st) in &rhs.causes {
            *self.causes.entry(*c).or_default() += st;
        }
        for (i, s) in rhs.inputs {
            let mine = self.inputs.entry(i).or_default();
            mine.counts += &s.counts;
            for e in s.errors {
                mine.add_error(e);
            }
            mine.errors_dropped += s.errors_dropped;
        }
        // Chunks merge in order, so this is a plain append; out-of-order
        // merges (not done today) still end sorted.
        let in_order = match (self.events.last(), rhs.events.first()) {
            (Some(a), Some(b)) => a.at <= b.at,
            _ => true,
        };
        self.events.extend(rhs.events);
        if !in_order {
            self.events.sort_by_key(|e| e.at);
        }
        self.failed_images += &rhs.failed_images;
        self.pulled_images += &rhs.pulled_images;
        self.pulled_registries += &rhs.pulled_registries;
        for (k, g) in &rhs.groups {
            *capped_entry(&mut self.groups, k.clone(), GROUP_CAP) += g;
        }
        // Marks, like events, arrive in input order: keeping the first
        // MARK_CAP of the merge keeps the earliest, as one pass would.
        let room = MARK_CAP.saturating_sub(self.marks_before + self.marks.len());
        self.marks_dropped += rhs.marks_dropped + rhs.marks.len().saturating_sub(room) as u64;
        self.marks.extend(rhs.marks.into_iter().take(room));
        for (h, name) in rhs.image_names {
            if self.image_names.len() >= TALLY_CAP {
                break;
            }
            self.image_names.entry(h).or_insert(name);
        }
        let room = FINGERPRINT_CAP.saturating_sub(self.fingerprints.len());
        self.fingerprints_dropped +=
            rhs.fingerprints_dropped + rhs.fingerprints.len().saturating_sub(room) as u64;
        self.fingerprints.extend(rhs.fingerprints.into_iter().take(room));
        for (t, st) in &rhs.templates {
            *capped_entry(&mut self.templates, t.clone(), TEMPLATE_CAP) += st;
        }
    }
}

/// How [`Summary::finish_with`] makes a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportOptions {
    /// The longest quiet time within one incident (`--incident-gap`).
    pub incident_gap_secs: i64,
    /// Whether the scan left duplicates out (for the report to say).
    pub dedup: bool,
}

/// Kubelet retries a failing pull with a back-off of up to five minutes:
/// half an hour without a failure of an image means it stopped failing
/// or stopped being tried.
pub const DEFAULT_INCIDENT_GAP_SECS: i64 = 30 * 60;

impl Default for ReportOptions {
    fn default() -> ReportOptions {
        ReportOptions { incident_gap_secs: DEFAULT_INCIDENT_GAP_SECS, dedup: true }
    }
}

/// Incidents listed in a report, most occurrences first.
pub const INCIDENTS_SHOWN: usize = 50;

/// The causes to fix first: root causes (symptoms included only for what
/// could not be attributed) ranked by incidents, then images hit, then
/// attributed occurrences; unclassified lines last.
fn root_causes(causes: &[CauseReport], rules: &RuleSet) -> Vec<RootCause> {
    let mut out: Vec<RootCause> = causes
        .iter()
        .filter(|c| c.attributed_count > 0)
        .map(|c| RootCause {
            cause: c.cause.clone(),
            title: c.title.clone(),
            incidents: c.incidents,
            images: c.images_hit,
            count: c.attributed_count,
            symptom: rules.cause(&c.cause).is_some_and(|c| c.is_symptom()),
        })
        .collect();
    out.sort_by(|a, b| {
        let last = |r: &RootCause| (r.cause == UNCLASSIFIED, r.symptom);
        last(a)
            .cmp(&last(b))
            .then(b.incidents.cmp(&a.incidents))
            .then(b.images.cmp(&a.images))
            .then(b.count.cmp(&a.count))
            .then_with(|| a.cause.cmp(&b.cause))
    });
    out
}

fn incident_reports(
    analysis: &incident::Analysis,
    names: &BTreeMap<u64, String>,
    rules: &RuleSet,
    input_names: &[String],
) -> Vec<IncidentReport> {
    analysis
        .incidents
        .iter()
        .map(|i| IncidentReport {
            cause: i.cause.map_or(UNCLASSIFIED.to_string(), |c| rules.causes[c].id.clone()),
            image: (i.image != 0)
                .then(|| names.get(&i.image).cloned().unwrap_or_else(|| CAPPED_GROUP.into())),
            first_seen: i.first,
            last_seen: i.last,
            count: i.occurrences,
            lines: i.lines,
            attributed: i.attributed,
            file: input_names.get(i.at.0).cloned().unwrap_or_default(),
            line: i.at.1,
        })
        .collect()
}

/// `--by` groups kept before new keys go to [`CAPPED_GROUP`]. Lower than
/// [`TALLY_CAP`]: each group holds tallies of its own, and a report of a
/// thousand groups is already more than anyone reads.
pub const GROUP_CAP: usize = 1_000;

/// The entry for `key` (a `--by` group, a template), or, once `cap` keys
/// exist, the entry [`CAPPED_GROUP`] for every new key.
fn capped_entry<V: Default>(map: &mut BTreeMap<String, V>, key: String, cap: usize) -> &mut V {
    let key =
        if map.len() >= cap && !map.contains_key(&key) { CAPPED_GROUP.to_string() } else { key };
    map.entry(key).or_default()
}

/// The `--by` group of the keys that came after the cap.
pub const CAPPED_GROUP: &str = "other";

/// The cause id of lines no rule matched.
pub const UNCLASSIFIED: &str = "unclassified";

/// Accounting for the whole run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Summed over inputs.
    pub total: Counts,
    /// Whether duplicates were left out of the summary (`total.duplicates`
    /// says how many there were either way).
    pub dedup: bool,
    /// Reported lines of inputs followed by others whose fingerprints
    /// were not remembered (past [`FINGERPRINT_CAP`]): their duplicates
    /// in later inputs were not looked for.
    pub duplicates_unchecked: u64,
    /// Errors: unreadable inputs, read errors, malformed rows or documents.
    pub errors: u64,
    /// Per input, in the order given.
    pub inputs: Vec<InputStats>,
}

/// A sample line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// Input path.
    pub file: String,
    /// 1-based line.
    pub line: u64,
    /// The message.
    pub text: String,
}

/// Remediation steps for one registry kind seen (or the general steps).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    /// Registry kind name; `None` for the general steps.
    pub registry_kind: Option<String>,
    /// The registry host the steps were filled in for.
    pub registry: Option<String>,
    /// The steps, placeholders filled.
    pub steps: String,
}

/// One cause in a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CauseReport {
    /// Cause id, or `unclassified`.
    pub cause: String,
    /// Cause title.
    pub title: String,
    /// Occurrences.
    pub count: u64,
    /// Lines.
    pub lines: u64,
    /// Occurrences after attribution: a root cause's own plus the symptoms
    /// attributed to it; a symptom's less those attributed away.
    pub attributed_count: u64,
    /// Incidents (after attribution).
    pub incidents: u64,
    /// Distinct images in its incidents.
    pub images_hit: u64,
    /// Top images with counts.
    pub images: Vec<(String, u64)>,
    /// Top registries with counts.
    pub registries: Vec<(String, u64)>,
    /// Top hosts / nodes with counts.
    pub hosts: Vec<(String, u64)>,
    /// Top pods with counts.
    pub pods: Vec<(String, u64)>,
    /// Winning rule ids with counts.
    pub rules: Vec<(String, u64)>,
    /// Earliest time seen.
    pub first_seen: Option<Timestamp>,
    /// Latest time seen.
    pub last_seen: Option<Timestamp>,
    /// The earliest line.
    pub sample: Option<Sample>,
    /// General steps first, then one entry per registry kind seen that has
    /// its own steps.
    pub remediation: Vec<Fix>,
    /// Documentation links.
    pub references: Vec<String>,
}

fn cause_report(
    cause: Option<usize>,
    st: &CauseStats,
    rules: &RuleSet,
    input_names: &[String],
) -> CauseReport {
    let (id, title, remediation, references) = match cause {
        Some(c) => {
            let c = &rules.causes[c];
            let fixes = fixes(&c.remediation, st);
            (c.id.clone(), c.title.clone(), fixes, c.references.clone())
        }
        None => (
            UNCLASSIFIED.to_string(),
            "Pull failed; no rule knows this message".to_string(),
            vec![Fix {
                registry_kind: None,
                registry: None,
                steps: "No rule matched these lines. Read the sample, then add a rule \
                        (rules/README.md) and pass it with --rules DIR."
                    .into(),
            }],
            Vec::new(),
        ),
    };
    CauseReport {
        cause: id,
        title,
        count: st.occurrences,
        lines: st.lines,
        attributed_count: st.occurrences,
        incidents: 0,
        images_hit: 0,
        images: st.images.top(TOP_K),
        registries: st.registries.top(TOP_K),
        hosts: st.hosts.top(TOP_K),
        pods: st.pods.top(TOP_K),
        rules: st.rules.top(usize::MAX),
        first_seen: st.first,
        last_seen: st.last,
        sample: st.sample.as_ref().map(|s| Sample {
            file: input_names.get(s.at.0).cloned().unwrap_or_default(),
            line: s.at.1,
            text: s.value.clone(),
        }),
        remediation,
        references,
    }
}

/// The general steps, then the steps for each registry kind seen, with the
/// kind's earliest registry host and image filled in.
fn fixes(rem: &Remediation, st: &CauseStats) -> Vec<Fix> {
    let first_kind = st.kinds.values().min_by_key(|e| e.at);
    let mut out = Vec::new();
    if let Some(general) = &rem.general {
        let fill = first_kind.map(|e| (&e.value.0, e.value.1.as_ref()));
        out.push(Fix {
            registry_kind: None,
            registry: None,
            steps: fill_in(general, fill.map(|f| f.0.as_str()), fill.and_then(|f| f.1)),
        });
    }
    for (kind, e) in &st.kinds {
        if let Some(text) = rem.for_kind(kind.name()) {
            let (host, image) = &e.value;
            out.push(Fix {
                registry_kind: Some(kind.name().to_string()),
                registry: Some(host.clone()),
                steps: fill_in(text, Some(host), image.as_ref()),
            });
        }
    }
    out
}

/// Replace `{registry}` (host and port), `{host}` (without port),
/// `{registry_name}`, `{image}`, `{repository}`, `{tag}`, `{region}` and
/// `{account}`; unknown values stay as `<name>`.
pub fn fill_in(text: &str, registry: Option<&str>, image: Option<&ImageRef>) -> String {
    let host = registry.map(str::to_string).or_else(|| image.map(|i| i.registry_host()));
    let (account, region) = image
        .and_then(ImageRef::ecr_account_region)
        .or_else(|| host.as_deref().and_then(ecr_account_region_of_host))
        .map_or((None, None), |(a, r)| (Some(a), Some(r)));
    let name = host.as_deref().map(|h| h.split(['.', ':']).next().unwrap_or(h).to_string());
    let bare_host = host.as_deref().map(|h| h.split(':').next().unwrap_or(h).to_string());
    let values: [(&str, Option<String>); 8] = [
        ("registry_name", name),
        ("host", bare_host),
        ("registry", host.clone()),
        ("image", image.map(|i| i.to_string())),
        ("repository", image.map(|i| i.repository.clone())),
        ("tag", image.and_then(|i| i.tag.clone())),
        ("region", region),
        ("account", account),
    ];
    let mut out = text.to_string();
    for (key, value) in values {
        let pat = format!("{{{key}}}");
        if out.contains(&pat) {
            let v = value.unwrap_or_else(|| format!("<{key}>"));
            out = out.replace(&pat, &v);
        }
    }
    out
}

fn ecr_account_region_of_host(host: &str) -> Option<(String, String)> {
    let mut parts = host.split('.');
    let account = parts.next()?;
    if parts.next()? != "dkr" || parts.next()? != "ecr" {
        return None;
    }
    Some((account.to_string(), parts.next()?.to_string()))
}

/// One event with names resolved, for line-oriented output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventReport {
    /// Input path.
    pub file: String,
    /// 1-based line.
    pub line: u64,
    /// Time as written (normalised to RFC 3339).
    pub time: Option<Timestamp>,
    /// Envelope name.
    pub envelope: Option<&'static str>,
    /// Payload format name.
    pub format: &'static str,
    /// Emitter name.
    pub emitter: &'static str,
    /// Cause id or `unclassified`.
    pub cause: String,
    /// Rule id.
    pub rule: Option<String>,
    /// Image, normalised.
    pub image: Option<String>,
    /// Registry host.
    pub registry: Option<String>,
    /// Registry kind name.
    pub registry_kind: Option<&'static str>,
    /// Where it happened.
    pub origin: Origin,
    /// Occurrences.
    pub count: u32,
    /// Message.
    pub message: String,
}

impl EventReport {
    fn new(e: &Event, rules: &RuleSet, input_names: &[String]) -> EventReport {
        EventReport {
            file: input_names.get(e.at.0).cloned().unwrap_or_default(),
            line: e.at.1,
            time: e.time,
            envelope: e.envelope.map(Envelope::name),
            format: e.format.name(),
            emitter: e.emitter.name(),
            cause: e.cause.map_or(UNCLASSIFIED.to_string(), |c| rules.causes[c].id.clone()),
            rule: e.rule.map(|r| rules.rules[r].id.clone()),
            image: e.image.as_ref().map(ToString::to_string),
            registry: e.registry.clone(),
            registry_kind: e.registry_kind().map(RegistryKind::name),
            origin: e.origin.clone(),
            count: e.count,
            message: e.message.clone(),
        }
    }
}

/// Failures and successful pulls of one image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageHealth {
    /// The image, normalised.
    pub image: String,
    /// Reported failure lines (occurrences).
    pub failures: u64,
    /// Successful pulls.
    pub successes: u64,
}

impl ImageHealth {
    /// failures / (failures + successes).
    pub fn failure_ratio(&self) -> f64 {
        let total = self.failures + self.successes;
        if total == 0 {
            0.0
        } else {
            self.failures as f64 / total as f64
        }
    }
}

/// Images with failures, most failures first (top 10), with their
/// successful pulls beside them.
fn image_health(failed: &Tally, pulled: &Tally) -> Vec<ImageHealth> {
    failed
        .top(10)
        .into_iter()
        .filter(|(name, _)| name != "other")
        .map(|(image, failures)| {
            let successes = pulled.get(&image);
            ImageHealth { image, failures, successes }
        })
        .collect()
}

/// One `--by` group in a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupReport {
    /// The group's values, joined with ` / `.
    pub key: String,
    /// Occurrences.
    pub count: u64,
    /// Lines.
    pub lines: u64,
    /// Top causes.
    pub causes: Vec<(String, u64)>,
    /// Top images.
    pub images: Vec<(String, u64)>,
    /// Earliest time seen.
    pub first_seen: Option<Timestamp>,
    /// Latest time seen.
    pub last_seen: Option<Timestamp>,
}

/// One cause ranked among the root causes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RootCause {
    /// Cause id, or `unclassified`.
    pub cause: String,
    /// Cause title.
    pub title: String,
    /// Incidents.
    pub incidents: u64,
    /// Distinct images hit.
    pub images: u64,
    /// Occurrences, attributed symptoms included.
    pub count: u64,
    /// A symptom no cause line explained.
    pub symptom: bool,
}

/// One incident in a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncidentReport {
    /// Cause id (after attribution), or `unclassified`.
    pub cause: String,
    /// The image, if the lines name one (`other` past the name cap).
    pub image: Option<String>,
    /// Earliest time in it.
    pub first_seen: Option<Timestamp>,
    /// Latest time in it.
    pub last_seen: Option<Timestamp>,
    /// Occurrences, attributed symptoms included.
    pub count: u64,
    /// Lines.
    pub lines: u64,
    /// Of the occurrences, symptoms attributed to the cause.
    pub attributed: u64,
    /// Input of its first line.
    pub file: String,
    /// Its first line.
    pub line: u64,
}

/// A template of unclassified lines, for the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateReport {
    /// The message with its variable parts masked.
    pub template: String,
    /// Occurrences.
    pub count: u64,
    /// Lines.
    pub lines: u64,
    /// The earliest lines of it.
    pub samples: Vec<Sample>,
}

/// How symptoms were attributed, for the report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attribution {
    /// Occurrences of symptom-only lines.
    pub symptoms: u64,
    /// Of those, attributed to a root cause.
    pub attributed: u64,
    /// The quiet gap that splits incidents.
    pub incident_gap_secs: i64,
    /// Reported lines past [`MARK_CAP`], left out of attribution and
    /// incidents (still in every count).
    pub lines_left_out: u64,
}

/// Everything output prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Line accounting and errors.
    pub stats: Stats,
    /// What to fix first: causes after attribution, ranked by incidents
    /// and images hit.
    pub root_causes: Vec<RootCause>,
    /// Causes, most frequent first; unclassified last.
    pub causes: Vec<CauseReport>,
    /// The largest incidents, most occurrences first (at most
    /// [`INCIDENTS_SHOWN`]).
    pub incidents: Vec<IncidentReport>,
    /// How symptoms were attributed.
    pub attribution: Attribution,
    /// The most frequent templates of the unclassified lines (at most
    /// [`TEMPLATES_SHOWN`]).
    pub templates: Vec<TemplateReport>,
    /// Events, in input order (empty unless asked for).
    pub events: Vec<EventReport>,
    /// Images with failures and their successful pulls (failure ratio).
    pub images: Vec<ImageHealth>,
    /// `--by` groups, largest first (empty without `--by`).
    pub groups: Vec<GroupReport>,
    /// Successful pulls per registry.
    pub pulled_registries: Vec<(String, u64)>,
    /// Whether some list had more distinct values than [`TALLY_CAP`]; the
    /// rest were counted under `other`.
    pub capped: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_caps_and_ranks() {
        let mut t = Tally::default();
        for i in 0..TALLY_CAP + 5 {
            t.add(&format!("k{i}"), 1);
        }
        t.add("k0", 3);
        assert_eq!(t.len(), TALLY_CAP);
        assert_eq!(t.other, 5);
        let top = t.top(2);
        assert_eq!(top[0], ("k0".to_string(), 4));
        assert_eq!(top.last(), Some(&("other".to_string(), 5)));
    }

    #[test]
    fn fill_in_placeholders() {
        let img = ImageRef::parse("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:v1");
        let s = fill_in(
            "aws ecr get-login-password --region {region} | docker login {registry}; {repository}",
            None,
            img.as_ref(),
        );
        assert_eq!(
            s,
            "aws ecr get-login-password --region eu-west-1 | docker login \
             123456789012.dkr.ecr.eu-west-1.amazonaws.com; team/app"
        );
        assert_eq!(
            fill_in("az acr login --name {registry_name}", Some("myacr.azurecr.io"), None),
            "az acr login --name myacr"
        );
        assert_eq!(fill_in("{image}", None, None), "<image>");
    }
}
