//! `pullscan explain`: everything pullscan concludes about one line, and why.
//!
//! A scan prints aggregates; when a user doubts one of them, or a rule
//! author wonders why a line went to the wrong cause, they need to see the
//! pipeline's work on a single line (issue 6): the envelope and payload
//! format recognised, the fields extracted, the message as the rules see it,
//! what the literal prefilter found, the image and registry, every rule that
//! matches and which one won and why, and the cause with its remediation for
//! that registry.
//!
//! [`explain`] runs the same steps a scan runs on a candidate line, in the
//! same order and through the same functions (`format::parse_line`,
//! [`Prefilter::rules_in`] on the raw line, [`Classifier::classify_found`],
//! `image::find_image`, [`summary::fill_in`]), so what it says is what a scan
//! does, not a second implementation that could drift. On top of that it
//! tests *every* rule in the table against the message, not only the ones
//! whose literals the prefilter found: a rule that matches a message whose
//! raw line holds none of its literals is one a scan silently never runs,
//! and [`Explanation::warnings`] says so loudly.
//!
//! The result is plain data; [`write_human`] and [`write_json`] print it.
//! Every string in an [`Explanation`] has been through [`redact`] when it is
//! built, so no printer of it can leak a secret from the line.
//!
//! [`Prefilter::rules_in`]: crate::prefilter::Prefilter::rules_in

use std::cmp::Reverse;
use std::io::{self, Write};

use serde::Serialize;

use crate::classify::{Classifier, Verdict};
use crate::format::{self, LineContext};
use crate::image::{self, ImageRef, RegistryKind};
use crate::record::{Level, Record};
use crate::redact::redact;
use crate::rules::{CauseKind, Rule};
use crate::summary;

/// Everything pullscan concludes about one line, for printing.
///
/// Every string has been through [`redact`] already.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The input line, without its line ending.
    pub line: String,
    /// The outermost envelope unwrapped (`syslog`, `cri`, `journald-json`,
    /// ...), if any.
    pub envelope: Option<&'static str>,
    /// The payload format (`klog`, `logfmt`, `docker-cli`, `plain`, ...).
    pub format: &'static str,
    /// Who wrote the line (`kubelet`, `containerd`, ...; `unknown`).
    pub emitter: &'static str,
    /// Severity as the line states it (`debug`, `info`, `warning`,
    /// `error`; `unknown`).
    pub level: &'static str,
    /// When the line was written, RFC 3339 (no zone suffix when the line
    /// gave none, see `time_naive`).
    pub time: Option<String>,
    /// Whether `time` is a wall-clock reading with no zone.
    pub time_naive: bool,
    /// Node or host name.
    pub host: Option<String>,
    /// Kubernetes pod.
    pub pod: Option<String>,
    /// Kubernetes namespace.
    pub namespace: Option<String>,
    /// Container name.
    pub container: Option<String>,
    /// Azure Container Apps app name.
    pub app: Option<String>,
    /// Azure Container Apps revision.
    pub revision: Option<String>,
    /// Azure Container Apps replica.
    pub replica: Option<String>,
    /// How many occurrences the line stands for (`(x3 over 5m)`); 1 for
    /// ordinary lines.
    pub count: u32,
    /// The image named in a structured field of the line (`image="..."`).
    pub image_field: Option<String>,
    /// The message the rules see: the payload with escapes undone.
    pub message: String,
    /// What the literal prefilter found in the raw line.
    pub prefilter: PrefilterHits,
    /// Whether the message is about a pull (generic wording such as `i/o
    /// timeout` only counts when it is).
    pub pull_context: bool,
    /// The image the line is about, if one is named.
    pub image: Option<ImageInfo>,
    /// The registry the line talks to, if known.
    pub registry: Option<RegistryInfo>,
    /// How many rules the table holds (all were tested).
    pub rules_total: usize,
    /// Every rule whose patterns match the message, winner first, then by
    /// priority and load order.
    pub rules: Vec<RuleMatch>,
    /// What the line is, and why.
    pub verdict: VerdictInfo,
    /// The cause of the deciding rule, if a rule decided.
    pub cause: Option<CauseInfo>,
    /// What to do, for a failure: the general steps, then the steps for the
    /// line's registry kind, placeholders filled from the line. Empty for
    /// anything but a classified failure.
    pub remediation: Vec<Step>,
    /// Problems in pullscan itself that this line shows (a rule the
    /// prefilter would hide). Empty when all is well.
    pub warnings: Vec<String>,
}

/// What the literal prefilter found in the raw line, and what a scan does
/// with the line because of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PrefilterHits {
    /// Ids of the rules any of whose literals occur in the raw line, in load
    /// order: the only rules a scan runs on it.
    pub rules: Vec<String>,
    /// Whether a generic pull / push word occurs (so the line can be
    /// counted as unclassified when no rule matches).
    pub pull_word: bool,
    /// Whether a scan looks at the line at all (some literal occurs).
    pub candidate: bool,
    /// Whether a scan parses and classifies it: a candidate with no rule
    /// literal and no error word beside its pull word is counted as
    /// unrelated unparsed.
    pub parsed: bool,
}

/// The image a line is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImageInfo {
    /// The reference as written in the line.
    pub text: String,
    /// Where it was found: `field` (a structured `image=` field) or
    /// `message` (found in the message text).
    pub source: &'static str,
    /// The reference parsed and normalised, `None` when it does not parse.
    pub parsed: Option<ImageParts>,
}

/// A parsed image reference (see [`ImageRef`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImageParts {
    /// The full normalised reference (`docker.io/library/nginx:1.25`).
    pub reference: String,
    /// Registry host, with port if given.
    pub registry: String,
    /// Repository path.
    pub repository: String,
    /// Tag, if any.
    pub tag: Option<String>,
    /// Digest, if any.
    pub digest: Option<String>,
}

/// The registry a line talks to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegistryInfo {
    /// Host, with port if given.
    pub host: String,
    /// Registry kind name (`dockerhub`, `acr`, `ecr`, ..., `private`).
    pub kind: &'static str,
    /// Where the host came from: `image` (the parsed image) or `message`
    /// (a registry URL or host named in the message).
    pub source: &'static str,
}

/// One rule whose patterns match the message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleMatch {
    /// Rule id.
    pub id: String,
    /// Its cause id.
    pub cause: String,
    /// Its priority (higher wins).
    pub priority: i32,
    /// Its position in load order (ties on priority go to the lower).
    pub order: usize,
    /// The file that defined it.
    pub origin: String,
    /// Whether the prefilter found one of its literals in the raw line.
    pub literal_found: bool,
    /// Its literals that occur in the raw line (ASCII case ignored).
    pub literals: Vec<String>,
    /// What became of it.
    pub status: RuleStatus,
}

/// What became of a rule that matches the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleStatus {
    /// It decided the verdict.
    Wins,
    /// It applies, but a rule ahead of it (priority, then load order) won.
    Beaten,
    /// Its pattern matches, but it needs pull context and the message has
    /// none: it does not apply.
    NeedsPullContext,
    /// It applies, but the prefilter found none of its literals in the raw
    /// line, so a scan never runs it: a bug in the rule or the prefilter.
    HiddenByPrefilter,
}

impl RuleStatus {
    /// The stable name used in output.
    pub fn name(self) -> &'static str {
        match self {
            RuleStatus::Wins => "wins",
            RuleStatus::Beaten => "beaten",
            RuleStatus::NeedsPullContext => "needs-pull-context",
            RuleStatus::HiddenByPrefilter => "hidden-by-prefilter",
        }
    }
}

/// What a line is, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerdictInfo {
    /// The verdict.
    pub kind: VerdictKind,
    /// The deciding rule, if one decided.
    pub rule: Option<String>,
    /// How the deciding rule won, if one decided.
    pub won_by: Option<WonBy>,
    /// The rules it beat, with their priorities, in the order they ranked.
    pub beaten: Vec<Beaten>,
    /// The reasoning in words.
    pub why: String,
}

/// The verdict's kind (see [`Verdict`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictKind {
    /// A pull or push failed, and a rule named the cause.
    Failure,
    /// A pull succeeded.
    Success,
    /// Looks like a failure but is normal.
    LookAlike,
    /// A pull failed, but no rule knows the message.
    Unclassified,
    /// Not about a pull failure.
    Unrelated,
}

impl VerdictKind {
    /// The stable name used in output.
    pub fn name(self) -> &'static str {
        match self {
            VerdictKind::Failure => "failure",
            VerdictKind::Success => "success",
            VerdictKind::LookAlike => "look-alike",
            VerdictKind::Unclassified => "unclassified",
            VerdictKind::Unrelated => "unrelated",
        }
    }
}

/// How the deciding rule won.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WonBy {
    /// It is the only rule that applies.
    OnlyMatch,
    /// Its priority is higher than every other rule that applies.
    Priority,
    /// Others that apply share its priority; it was loaded first.
    LoadOrder,
}

/// A rule the winner beat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Beaten {
    /// Rule id.
    pub id: String,
    /// Its priority.
    pub priority: i32,
}

/// The cause of the deciding rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CauseInfo {
    /// Stable public id.
    pub id: String,
    /// Short title.
    pub title: String,
    /// `failure`, `success` or `benign`.
    pub kind: &'static str,
    /// What it means.
    pub description: String,
    /// Documentation links (the rule's, then the cause's).
    pub references: Vec<String>,
}

/// One block of remediation steps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Registry kind name; `None` for the general steps.
    pub registry_kind: Option<&'static str>,
    /// The registry host the steps were filled in for.
    pub registry: Option<String>,
    /// The steps, placeholders filled.
    pub steps: String,
}

/// Explain one line: parse it, run the prefilter and every rule, classify
/// it as a scan would, and gather the cause and remediation.
///
/// Never panics (parsing never fails); a line nothing recognises is a
/// plain, unrelated line, explained as such.
pub fn explain(classifier: &Classifier, line: &str, ctx: &LineContext) -> Explanation {
    let text = line.strip_suffix('\n').unwrap_or(line);
    let text = text.strip_suffix('\r').unwrap_or(text);
    let record = format::parse_line(text, ctx);
    let prefilter = classifier.prefilter();
    let found = prefilter.rules_in(text.as_bytes());
    let verdict = classifier.classify_found(&record, &found);
    let rules = classifier.rules();
    let seen = Seen::of(&record);
    let matches = rule_matches(classifier, &record, text, &found.rules, verdict.rule());
    let mut warnings = prefilter_warnings(&matches, verdict.rule(), classifier);
    if verdict.rule().is_some() && !matches.iter().any(|m| m.status == RuleStatus::Wins) {
        warnings.push(
            "explain and the classifier disagree on the winning rule (a bug in pullscan)".into(),
        );
    }
    let verdict_info = verdict_info(classifier, &record, &found, verdict, &matches);
    let cause = verdict.rule().map(|i| cause_info(classifier, &rules.rules[i]));
    let remediation = match verdict {
        Verdict::Failure { rule } => remediation(&rules.rules[rule], &seen),
        _ => Vec::new(),
    };
    let r = |s: Option<&str>| s.map(|s| redact(s).into_owned());
    Explanation {
        line: redact(text).into_owned(),
        envelope: record.envelope.map(|e| e.name()),
        format: record.format.name(),
        emitter: record.emitter.name(),
        level: level_name(record.level),
        time: record.time.map(|t| t.to_string()),
        time_naive: record.time.is_some_and(|t| t.naive),
        host: r(record.host.as_deref()),
        pod: r(record.pod.as_deref()),
        namespace: r(record.namespace.as_deref()),
        container: r(record.container.as_deref()),
        app: r(record.app.as_deref()),
        revision: r(record.revision.as_deref()),
        replica: r(record.replica.as_deref()),
        count: record.count.max(1),
        image_field: r(record.image.as_deref()),
        message: redact(&record.message).into_owned(),
        prefilter: PrefilterHits {
            rules: found.rules.iter().map(|&i| rules.rules[i].id.clone()).collect(),
            pull_word: found.generic,
            candidate: !found.is_empty(),
            parsed: !found.is_empty() && !classifier.surely_unrelated(text.as_bytes(), &found),
        },
        pull_context: classifier.has_pull_context(&record),
        image: seen.image_info(),
        registry: seen.registry_info(),
        rules_total: rules.rules.len(),
        rules: matches,
        verdict: verdict_info,
        cause,
        remediation,
        warnings,
    }
}

/// The image and registry a record names, found as a scan finds them
/// (`scan::account`): the image field, else an image in the message; the
/// registry of that image, else a registry host in the message.
struct Seen {
    image_text: Option<(String, &'static str)>,
    image: Option<ImageRef>,
    registry: Option<(String, &'static str)>,
}

impl Seen {
    fn of(record: &Record<'_>) -> Seen {
        let image_text = match &record.image {
            Some(i) => Some((i.to_string(), "field")),
            None => image::find_image(&record.message).map(|i| (i.into_owned(), "message")),
        };
        let image = image_text.as_ref().and_then(|(t, _)| ImageRef::parse(t));
        let registry = match &image {
            Some(img) => Some((img.registry_host(), "image")),
            None => image::find_registry_host(&record.message).map(|h| (h.to_string(), "message")),
        };
        Seen { image_text, image, registry }
    }

    fn kind(&self) -> Option<RegistryKind> {
        self.registry.as_ref().map(|(h, _)| RegistryKind::from_host(h))
    }

    fn image_info(&self) -> Option<ImageInfo> {
        let (text, source) = self.image_text.as_ref()?;
        let parsed = self.image.as_ref().map(|i| ImageParts {
            reference: redact(&i.to_string()).into_owned(),
            registry: redact(&i.registry).into_owned(),
            repository: redact(&i.repository).into_owned(),
            tag: i.tag.as_deref().map(|t| redact(t).into_owned()),
            digest: i.digest.as_deref().map(|d| redact(d).into_owned()),
        });
        Some(ImageInfo { text: redact(text).into_owned(), source, parsed })
    }

    fn registry_info(&self) -> Option<RegistryInfo> {
        let (host, source) = self.registry.as_ref()?;
        Some(RegistryInfo {
            host: redact(host).into_owned(),
            kind: RegistryKind::from_host(host).name(),
            source,
        })
    }
}

/// Every rule whose regex matches the message, with what became of it;
/// the winner first, then by priority and load order.
fn rule_matches(
    classifier: &Classifier,
    record: &Record<'_>,
    raw: &str,
    found: &[usize],
    winner: Option<usize>,
) -> Vec<RuleMatch> {
    let rules = classifier.rules();
    let message = record.message.as_bytes();
    let mut order: Vec<usize> =
        (0..rules.rules.len()).filter(|&i| rules.rules[i].is_match(message)).collect();
    order.sort_by_key(|&i| (Some(i) != winner, Reverse(rules.rules[i].priority), i));
    let raw_lower = raw.to_ascii_lowercase();
    order
        .into_iter()
        .map(|i| {
            let rule = &rules.rules[i];
            let literal_found = found.binary_search(&i).is_ok();
            let status = if Some(i) == winner {
                RuleStatus::Wins
            } else if !classifier.rule_applies(i, record) {
                RuleStatus::NeedsPullContext
            } else if !literal_found {
                RuleStatus::HiddenByPrefilter
            } else {
                RuleStatus::Beaten
            };
            RuleMatch {
                id: rule.id.clone(),
                cause: rules.cause_of(rule).id.clone(),
                priority: rule.priority,
                order: i,
                origin: rule.origin.clone(),
                literal_found,
                literals: rule
                    .literals
                    .iter()
                    .filter(|l| raw_lower.contains(l.as_str()))
                    .map(|l| redact(l).into_owned())
                    .collect(),
                status,
            }
        })
        .collect()
}

/// A warning for every rule the prefilter would hide from a scan, and for
/// every disagreement between the prefilter and a plain substring search.
fn prefilter_warnings(
    matches: &[RuleMatch],
    winner: Option<usize>,
    classifier: &Classifier,
) -> Vec<String> {
    let rules = &classifier.rules().rules;
    let mut out = Vec::new();
    for m in matches {
        if m.status == RuleStatus::HiddenByPrefilter {
            let rule = &rules[m.order];
            let beats = winner.is_none_or(|w| {
                (Reverse(rule.priority), m.order) < (Reverse(rules[w].priority), w)
            });
            out.push(format!(
                "BUG: rule {} matches this message, but the prefilter found none of its \
                 literals ({}) in the raw line, so a scan never runs it{}. Give the rule \
                 `keywords` that occur in the raw line (rules/README.md, \"The prefilter\").",
                m.id,
                quoted_list(&rule.literals),
                if beats { " (it would have decided this line)" } else { "" },
            ));
        }
        let by_search = !m.literals.is_empty();
        if m.literal_found != by_search {
            out.push(format!(
                "BUG: for rule {} the prefilter says a literal {} but a substring search \
                 says {}: the prefilter and its literals disagree.",
                m.id,
                if m.literal_found { "occurs" } else { "does not occur" },
                if m.literals.is_empty() { "none does" } else { "one does" },
            ));
        }
    }
    out.into_iter().map(|w| redact(&w).into_owned()).collect()
}

fn quoted_list(items: &[String]) -> String {
    items.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ")
}

fn verdict_info(
    classifier: &Classifier,
    record: &Record<'_>,
    found: &crate::prefilter::Found,
    verdict: Verdict,
    matches: &[RuleMatch],
) -> VerdictInfo {
    let kind = match verdict {
        Verdict::Failure { .. } => VerdictKind::Failure,
        Verdict::Success { .. } => VerdictKind::Success,
        Verdict::LookAlike { .. } => VerdictKind::LookAlike,
        Verdict::Unclassified => VerdictKind::Unclassified,
        Verdict::Unrelated => VerdictKind::Unrelated,
    };
    let Some(rule) = verdict.rule() else {
        let why = no_rule_why(classifier, record, found, kind);
        return VerdictInfo { kind, rule: None, won_by: None, beaten: Vec::new(), why };
    };
    let rules = classifier.rules();
    let winner = &rules.rules[rule];
    let beaten: Vec<Beaten> = matches
        .iter()
        .filter(|m| m.status == RuleStatus::Beaten)
        .map(|m| Beaten { id: m.id.clone(), priority: m.priority })
        .collect();
    let won_by = match beaten.first() {
        None => WonBy::OnlyMatch,
        Some(b) if b.priority == winner.priority => WonBy::LoadOrder,
        Some(_) => WonBy::Priority,
    };
    let mut why = won_why(winner, won_by, &beaten);
    let cause = rules.cause_of(winner);
    why.push(' ');
    why.push_str(&match (kind, cause.kind) {
        (VerdictKind::LookAlike, CauseKind::Failure) => format!(
            "Its cause, {}, is a failure, but the line is debug-level: clients log \
             401s and retries there during normal token handshakes, so it is a \
             look-alike and is not reported.",
            cause.id
        ),
        (VerdictKind::LookAlike, _) => format!(
            "Its cause, {}, is a look-alike: the line is normal and is not reported.",
            cause.id
        ),
        (VerdictKind::Success, _) => format!(
            "Its cause, {}, is a successful pull: counted for the failure ratio, not reported.",
            cause.id
        ),
        _ => format!("The line is reported as {}.", cause.id),
    });
    VerdictInfo { kind, rule: Some(winner.id.clone()), won_by: Some(won_by), beaten, why }
}

/// How the winner won, in words.
fn won_why(winner: &Rule, won_by: WonBy, beaten: &[Beaten]) -> String {
    let list = |b: &[Beaten]| {
        b.iter().map(|b| format!("{} ({})", b.id, b.priority)).collect::<Vec<_>>().join(", ")
    };
    match won_by {
        WonBy::OnlyMatch => format!("{} is the only rule that applies.", winner.id),
        WonBy::Priority => format!(
            "{} has the highest priority ({}) of the {} rules that apply; it beat {}.",
            winner.id,
            winner.priority,
            beaten.len() + 1,
            list(beaten)
        ),
        WonBy::LoadOrder => {
            let (tied, lower): (Vec<Beaten>, Vec<Beaten>) =
                beaten.iter().cloned().partition(|b| b.priority == winner.priority);
            let mut s = format!(
                "{} ties on priority {} with {}; a tie goes to the rule loaded first, \
                 which is {} ({}).",
                winner.id,
                winner.priority,
                list(&tied),
                winner.id,
                winner.origin
            );
            if !lower.is_empty() {
                s.push_str(&format!(" It also beat {}.", list(&lower)));
            }
            s
        }
    }
}

/// Why no rule decided, in words.
fn no_rule_why(
    classifier: &Classifier,
    record: &Record<'_>,
    found: &crate::prefilter::Found,
    kind: VerdictKind,
) -> String {
    if kind == VerdictKind::Unclassified {
        return "No rule applies, but the message mentions a pull or push and an error: it is \
                reported as unclassified, never dropped. If it is a real failure, add a rule \
                (rules/README.md) and pass it with --rules DIR."
            .into();
    }
    if found.is_empty() {
        return "No rule literal and no pull or push word occurs in the line: a scan never \
                looks at it."
            .into();
    }
    // Would the line be unclassified if it were not debug-level?
    let louder = Record { level: Level::Info, ..record.clone() };
    if record.level.is_debug() && classifier.classify_found(&louder, found) == Verdict::Unclassified
    {
        return "No rule applies; the message mentions a pull and an error, but the line is \
                debug-level, so it is not reported."
            .into();
    }
    "No rule applies, and the message does not name both a pull or push and an error: \
     it is not about a pull failure."
        .into()
}

fn cause_info(classifier: &Classifier, rule: &Rule) -> CauseInfo {
    let cause = classifier.rules().cause_of(rule);
    CauseInfo {
        id: cause.id.clone(),
        title: redact(&cause.title).into_owned(),
        kind: match cause.kind {
            CauseKind::Failure => "failure",
            CauseKind::Success => "success",
            CauseKind::Benign => "benign",
        },
        description: redact(&cause.description).into_owned(),
        references: rule.references.clone(),
    }
}

/// The rule's remediation (its cause's, overridden key by key by the rule's
/// own, as `rules` merges them): the general steps, then the steps for the
/// line's registry kind, filled in with the line's registry and image.
///
/// Only the values filled in are redacted, not the template: remediation
/// text holds `--docker-password=<password>`, which [`redact`] would mask.
fn remediation(rule: &Rule, seen: &Seen) -> Vec<Step> {
    let rem = &rule.remediation;
    let host = seen.registry.as_ref().map(|(h, _)| redact(h).into_owned());
    let image = seen.image.as_ref().map(|i| ImageRef {
        registry: redact(&i.registry).into_owned(),
        repository: redact(&i.repository).into_owned(),
        tag: i.tag.as_deref().map(|t| redact(t).into_owned()),
        digest: i.digest.as_deref().map(|d| redact(d).into_owned()),
    });
    let fill = |text: &str| summary::fill_in(text, host.as_deref(), image.as_ref());
    let mut out = Vec::new();
    if let Some(general) = &rem.general {
        out.push(Step { registry_kind: None, registry: None, steps: fill(general) });
    }
    if let (Some(kind), Some(host)) = (seen.kind(), &host) {
        if let Some(text) = rem.for_kind(kind.name()) {
            out.push(Step {
                registry_kind: Some(kind.name()),
                registry: Some(host.clone()),
                steps: fill(text),
            });
        }
    }
    out
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Unknown => "unknown",
        Level::Debug => "debug",
        Level::Info => "info",
        Level::Warning => "warning",
        Level::Error => "error",
    }
}

/// Write one explanation as JSON on one line (JSON Lines), so explaining
/// many lines streams one object per line.
pub fn write_json(e: &Explanation, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer(&mut *out, e)?;
    out.write_all(b"\n")
}

/// Width of the label column of the human report.
const LABEL: usize = 10;
/// Where long prose (descriptions, reasons) is wrapped.
const WIDTH: usize = 100;

/// Write one explanation as a sectioned report for people: what the line
/// is made of, what the prefilter and the rules made of it, the verdict and
/// why, and what to do.
pub fn write_human(e: &Explanation, out: &mut dyn Write) -> io::Result<()> {
    write_parsed(e, out)?;
    write_image(e, out)?;
    write_rules(e, out)?;
    write_verdict(e, out)?;
    for w in &e.warnings {
        prose(out, "WARNING", w)?;
    }
    Ok(())
}

/// `label    text`, the label padded to the label column.
fn row(out: &mut dyn Write, label: &str, text: &str) -> io::Result<()> {
    writeln!(out, "{label:<LABEL$}{text}")
}

/// Text wrapped at [`WIDTH`], the first line after `label`, the others
/// indented to the label column. Existing line breaks are kept.
fn prose(out: &mut dyn Write, label: &str, text: &str) -> io::Result<()> {
    let mut label = label;
    for line in wrap(text, WIDTH - LABEL) {
        row(out, label, &line)?;
        label = "";
    }
    Ok(())
}

/// `text` wrapped at `width` characters. Line breaks in `text` are kept;
/// a wrapped line keeps its line's indentation, plus a hanging indent under
/// a list marker (`1. `, `- `), so numbered steps stay readable.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.trim_end().lines() {
        let lead = para.len() - para.trim_start().len();
        let body = &para[lead..];
        let marker =
            body.find(". ").filter(|&i| i > 0 && body[..i].bytes().all(|b| b.is_ascii_digit()));
        let hang = match marker {
            Some(i) => i + 2,
            None if body.starts_with("- ") || body.starts_with("* ") => 2,
            None => 0,
        };
        let indent = " ".repeat(lead + hang);
        let mut cur = para[..lead].to_string();
        let mut empty = true;
        for word in body.split_whitespace() {
            if !empty && cur.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::replace(&mut cur, indent.clone()));
                empty = true;
            }
            if !empty {
                cur.push(' ');
            }
            cur.push_str(word);
            empty = false;
        }
        lines.push(cur);
    }
    lines
}

fn write_parsed(e: &Explanation, out: &mut dyn Write) -> io::Result<()> {
    row(out, "line", &e.line)?;
    row(
        out,
        "parsed",
        &format!(
            "envelope {}  format {}  emitter {}  level {}",
            e.envelope.unwrap_or("-"),
            e.format,
            e.emitter,
            e.level
        ),
    )?;
    if let Some(t) = &e.time {
        let note = if e.time_naive { "  (no zone in the line: local wall-clock time)" } else { "" };
        row(out, "time", &format!("{t}{note}"))?;
    }
    let fields: Vec<String> = [
        ("host", &e.host),
        ("pod", &e.pod),
        ("namespace", &e.namespace),
        ("container", &e.container),
        ("app", &e.app),
        ("revision", &e.revision),
        ("replica", &e.replica),
        ("image", &e.image_field),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
    .chain((e.count > 1).then(|| format!("count={}", e.count)))
    .collect();
    if !fields.is_empty() {
        row(out, "fields", &fields.join("  "))?;
    }
    row(out, "message", &e.message)?;
    let p = &e.prefilter;
    let scan = if !p.candidate {
        "not a candidate: a scan skips the line"
    } else if !p.parsed {
        "candidate, counted as unrelated without parsing"
    } else {
        "candidate: parsed and classified"
    };
    let rules = if p.rules.is_empty() { "no rule literals".to_string() } else { p.rules.join(" ") };
    let word = if p.pull_word { "pull word found" } else { "no pull word" };
    prose(out, "prefilter", &format!("{scan}; {word}; literals of: {rules}"))
}

fn write_image(e: &Explanation, out: &mut dyn Write) -> io::Result<()> {
    match &e.image {
        Some(img) => {
            let parsed = match &img.parsed {
                Some(p) => {
                    let mut s = format!("{}  repository {}", p.reference, p.repository);
                    if let Some(t) = &p.tag {
                        s.push_str(&format!("  tag {t}"));
                    }
                    if let Some(d) = &p.digest {
                        s.push_str(&format!("  digest {d}"));
                    }
                    s
                }
                None => format!("{}  (not a valid image reference)", img.text),
            };
            row(out, "image", &format!("{parsed}  (from the {})", img.source))?;
        }
        None => row(out, "image", "-")?,
    }
    match &e.registry {
        Some(r) => {
            row(out, "registry", &format!("{} ({})  (from the {})", r.host, r.kind, r.source))
        }
        None => row(out, "registry", "-"),
    }
}

fn write_rules(e: &Explanation, out: &mut dyn Write) -> io::Result<()> {
    let context = if e.pull_context { "has" } else { "has no" };
    row(
        out,
        "rules",
        &format!(
            "{} of {} rules match the message (which {context} pull context)",
            e.rules.len(),
            e.rules_total
        ),
    )?;
    let id_w = e.rules.iter().map(|m| m.id.len()).max().unwrap_or(0);
    let cause_w = e.rules.iter().map(|m| m.cause.len()).max().unwrap_or(0);
    for m in &e.rules {
        let status = match m.status {
            RuleStatus::Wins => "wins",
            RuleStatus::Beaten => "beaten",
            RuleStatus::NeedsPullContext => "no ctx",
            RuleStatus::HiddenByPrefilter => "HIDDEN",
        };
        let literal = match (m.literal_found, m.literals.first()) {
            (true, Some(l)) => format!("literal {l:?} found"),
            (true, None) => "literal found".to_string(),
            (false, _) => "NO LITERAL FOUND".to_string(),
        };
        let note = match m.status {
            RuleStatus::NeedsPullContext => "  matches, but needs pull context",
            RuleStatus::HiddenByPrefilter => "  a scan never runs it (see WARNING)",
            _ => "",
        };
        row(
            out,
            "",
            &format!(
                "{status:<7} {:<id_w$}  {:<cause_w$}  prio {:>3}  {literal}{note}",
                m.id, m.cause, m.priority
            ),
        )?;
    }
    Ok(())
}

fn write_verdict(e: &Explanation, out: &mut dyn Write) -> io::Result<()> {
    let v = &e.verdict;
    let head = match (&v.rule, &e.cause) {
        (Some(_), Some(c)) if v.kind == VerdictKind::Failure => {
            format!("failure: {} \u{2014} {}", c.id, c.title)
        }
        (Some(_), Some(c)) => {
            format!("{}: {} \u{2014} {} (not reported)", v.kind.name(), c.id, c.title)
        }
        _ => v.kind.name().to_string(),
    };
    row(out, "verdict", &head)?;
    prose(out, "why", &v.why)?;
    if let Some(c) = &e.cause {
        if !c.description.is_empty() {
            prose(out, "cause", &c.description)?;
        }
    }
    let mut label = "fix";
    for s in &e.remediation {
        let head = match (s.registry_kind, &s.registry) {
            (Some(kind), Some(host)) => format!("for {kind} ({host}):"),
            (Some(kind), None) => format!("for {kind}:"),
            _ => "general:".to_string(),
        };
        row(out, label, &head)?;
        label = "";
        for line in s.steps.trim_end().lines() {
            for w in wrap(line, WIDTH - LABEL - 2) {
                row(out, "", &format!("  {w}"))?;
            }
        }
    }
    if let Some(kind) = e.registry.as_ref().map(|r| r.kind) {
        let has_kind = e.remediation.iter().any(|s| s.registry_kind.is_some());
        if !e.remediation.is_empty() && !has_kind {
            row(out, label, &format!("(no steps specific to {kind} for this cause)"))?;
        }
    }
    if let Some(c) = &e.cause {
        if v.kind == VerdictKind::Failure {
            for (i, r) in c.references.iter().enumerate() {
                row(out, if i == 0 { "see" } else { "" }, r)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{self, RuleSet};

    fn builtin() -> Classifier {
        Classifier::new(rules::builtin().unwrap()).unwrap()
    }

    fn ctx() -> LineContext {
        LineContext::in_year(2024)
    }

    fn human(e: &Explanation) -> String {
        let mut out = Vec::new();
        write_human(e, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn json(e: &Explanation) -> String {
        let mut out = Vec::new();
        write_json(e, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn status_of<'e>(e: &'e Explanation, id: &str) -> Option<&'e RuleMatch> {
        e.rules.iter().find(|m| m.id == id)
    }

    /// minikube issue 6748 (corpus seed): kubelet klog in a syslog envelope;
    /// the DNS failure sits inside `ErrImagePull` and a `connection refused`.
    const KUBELET_DNS: &str = "* Feb 22 09:44:20 minikube kubelet[3889]: E0222 09:44:20.447117    3889 kuberuntime_manager.go:803] container start failed: ErrImagePull: rpc error: code = Unknown desc = Error response from daemon: Get https://registry-1.docker.io/v2/: dial tcp: lookup registry-1.docker.io on 192.168.64.1:53: read udp 192.168.64.6:43004->192.168.64.1:53: read: connection refused";

    /// The crate-level example: containerd's wrapper around a DNS failure.
    const KLOG_DNS: &str = r#"E0825 12:00:00.1 1 remote_image.go:180] "PullImage from image service failed" err="rpc error: code = Unknown desc = failed to pull and unpack image \"docker.io/library/nginx:1.25\": failed to resolve reference \"docker.io/library/nginx:1.25\": failed to do request: Head \"https://registry-1.docker.io/v2/library/nginx/manifests/1.25\": dial tcp: lookup registry-1.docker.io on 10.0.0.2:53: no such host" image="docker.io/library/nginx:1.25""#;

    /// `network.firewall.acr`'s first example.
    const ACR_FIREWALL: &str = "Error response from daemon: Head https://pvtacr.azurecr.io/v2/hello-world/manifests/latest: denied: client with IP '20.120.109.180' is not allowed access. Refer https://aka.ms/acr/firewall to grant access.";

    /// Corpus seed (labelled `none`): containerd's debug log of the normal
    /// 401 challenge before a token is fetched, in a GitHub Actions log.
    const DEBUG_401: &str = r#"2023-01-17T12:47:09.3994680Z time="2023-01-17T12:47:08Z" level=debug msg="fetch response received" digest="sha256:d449c8efb434f16d96fc3c9aa7f47c6905667227c74185e87b9c9ed1e599564d" mediatype=application/vnd.docker.image.rootfs.diff.tar response.header.content-length=73 response.header.content-type=application/json response.header.date="Tue, 17 Jan 2023 12:47:08 GMT" response.header.www-authenticate="***"https://ghcr.io/token\",service=\"ghcr.io\",scope=\"repository:mqasimsarfraz/test:pull\"" response.header.x-github-request-id="0C43:0B13:40E0A8:6758AC:63C698CB" response.status="401 Unauthorized" size=512001536 spanID=a957607f2bb1b8bf traceID=8a2ddde7bc398d693b8e3dc9e3d0274b url="https://ghcr.io/v2/mqasimsarfraz/test/blobs/sha256:d449c8efb434f16d96fc3c9aa7f47c6905667227c74185e87b9c9ed1e599564d""#;

    /// `ok.pulled.success`'s first example: a `kubectl get events` row.
    const PULLED: &str = r#"114m        Normal    Pulled                pod/hpe-csi-controller-7c954d99c4-p2qs5         Successfully pulled image "quay.io/k8scsi/csi-provisioner:v1.5.0" in 6.307556687s"#;

    /// Corpus seed: containerd's error in a syslog file (`/var/log/messages`).
    const SYSLOG_CONTAINERD: &str = r#"Jul 20 23:07:17 xdlinux containerd[26160]: time="2025-07-20T23:07:17.338977261+08:00" level=error msg="PullImage \"registry.aliyuncs.com/google_containers/calico/cni:v3.30.2\" failed" error="rpc error: code = Unknown desc = failed to pull and unpack image \"registry.aliyuncs.com/google_containers/calico/cni:v3.30.2\": failed to resolve image: pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed""#;

    /// Corpus seed: two rules of one cause tie on priority.
    const TIED_503: &str = "\t[ERROR ImagePull]: failed to pull image registry.k8s.io/kube-apiserver:v1.22.17: output: Error response from daemon: received unexpected HTTP status: 503 Service Unavailable";

    /// A token-endpoint 401 whose line carries the bearer token and a URL
    /// password: neither may be printed.
    const SECRETS: &str = r#"time="2024-05-01T10:00:00Z" level=error msg="PullImage \"myacr.azurecr.io/app:1\" failed" error="failed to fetch oauth token: unexpected status from POST request to https://puller:hunter2secret@myacr.azurecr.io/oauth2/token: 401 Unauthorized" header="Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJlX2hlcmU""#;

    #[test]
    fn kubelet_dns_inside_wrappers_wins_by_priority() {
        let e = explain(&builtin(), KUBELET_DNS, &ctx());
        assert_eq!(e.envelope, Some("syslog"));
        assert_eq!((e.format, e.emitter, e.level), ("klog", "kubelet", "error"));
        assert_eq!(e.host.as_deref(), Some("minikube"));
        assert_eq!(e.time.as_deref(), Some("2024-02-22T09:44:20.447117"));
        assert!(e.time_naive);
        assert!(e.message.starts_with("container start failed: ErrImagePull"), "{}", e.message);
        assert_eq!(e.verdict.kind, VerdictKind::Failure);
        assert_eq!(e.verdict.rule.as_deref(), Some("network.dns.lookup"));
        assert_eq!(e.verdict.won_by, Some(WonBy::Priority));
        assert_eq!(e.rules[0].status, RuleStatus::Wins);
        let wrapper = status_of(&e, "symptom.unspecified").expect("the wrapper matches too");
        assert_eq!(wrapper.status, RuleStatus::Beaten);
        assert!(e.verdict.beaten.iter().any(|b| b.id == "symptom.unspecified"));
        assert!(e.verdict.why.contains("highest priority (70)"), "{}", e.verdict.why);
        assert_eq!(e.cause.as_ref().map(|c| c.id.as_str()), Some("network.dns"));
        let reg = e.registry.as_ref().unwrap();
        assert_eq!(
            (reg.host.as_str(), reg.kind, reg.source),
            ("registry-1.docker.io", "dockerhub", "message")
        );
        assert!(e.image.is_none());
        assert_eq!(e.remediation.len(), 2);
        assert!(e.remediation[0].steps.contains("nslookup registry-1.docker.io"));
        assert_eq!(e.remediation[1].registry_kind, Some("dockerhub"));
        assert!(e.warnings.is_empty(), "{:?}", e.warnings);
        assert!(e.prefilter.candidate && e.prefilter.parsed && e.prefilter.pull_word);

        let text = human(&e);
        assert!(
            text.contains("envelope syslog  format klog  emitter kubelet  level error"),
            "{text}"
        );
        assert!(text.contains("failure: network.dns \u{2014} "), "{text}");
        assert!(text.contains("for dockerhub (registry-1.docker.io):"), "{text}");
    }

    #[test]
    fn the_specific_dns_rule_beats_the_generic_one() {
        let e = explain(&builtin(), KLOG_DNS, &ctx());
        assert_eq!((e.envelope, e.format, e.emitter), (None, "klog", "kubelet"));
        assert_eq!(e.image_field.as_deref(), Some("docker.io/library/nginx:1.25"));
        let img = e.image.as_ref().unwrap();
        assert_eq!(img.source, "field");
        let parts = img.parsed.as_ref().unwrap();
        assert_eq!(
            (parts.registry.as_str(), parts.repository.as_str(), parts.tag.as_deref()),
            ("docker.io", "library/nginx", Some("1.25"))
        );
        assert_eq!(e.verdict.rule.as_deref(), Some("network.dns.lookup"));
        let generic = status_of(&e, "network.dns.no-such-host").unwrap();
        assert_eq!(generic.status, RuleStatus::Beaten);
        assert!(generic.literal_found);
        assert_eq!(generic.literals, ["no such host"]);
    }

    #[test]
    fn acr_firewall_remediation_names_the_registry() {
        let e = explain(&builtin(), ACR_FIREWALL, &ctx());
        assert_eq!((e.format, e.emitter), ("docker-cli", "docker-cli"));
        assert_eq!(e.verdict.rule.as_deref(), Some("network.firewall.acr"));
        assert_eq!(e.cause.as_ref().unwrap().id, "network.firewall");
        let reg = e.registry.as_ref().unwrap();
        assert_eq!((reg.host.as_str(), reg.kind), ("pvtacr.azurecr.io", "acr"));
        let acr = e.remediation.iter().find(|s| s.registry_kind == Some("acr")).unwrap();
        assert_eq!(acr.registry.as_deref(), Some("pvtacr.azurecr.io"));
        assert!(acr.steps.contains("az acr network-rule list --name pvtacr"), "{}", acr.steps);
        assert!(!acr.steps.contains('{'), "placeholders left: {}", acr.steps);
        assert!(e.remediation[0].steps.contains("https://pvtacr.azurecr.io/v2/"));
        assert!(human(&e).contains("for acr (pvtacr.azurecr.io):"));
    }

    #[test]
    fn a_debug_level_401_is_a_look_alike() {
        let e = explain(&builtin(), DEBUG_401, &ctx());
        assert_eq!((e.format, e.level), ("logfmt", "debug"));
        assert_eq!(e.verdict.kind, VerdictKind::LookAlike);
        assert_eq!(e.verdict.rule.as_deref(), Some("auth.unauthorized.status-401"));
        assert!(e.verdict.why.contains("debug-level"), "{}", e.verdict.why);
        assert_eq!(e.cause.as_ref().unwrap().kind, "failure");
        assert!(e.remediation.is_empty(), "look-alikes get no fix");
        assert!(human(&e).contains("look-alike: auth.unauthorized"));
    }

    #[test]
    fn a_success_line() {
        let e = explain(&builtin(), PULLED, &ctx());
        assert_eq!(e.format, "k8s-event");
        assert_eq!(e.pod.as_deref(), Some("hpe-csi-controller-7c954d99c4-p2qs5"));
        assert_eq!(e.verdict.kind, VerdictKind::Success);
        assert_eq!(e.verdict.rule.as_deref(), Some("ok.pulled.success"));
        assert_eq!(e.verdict.won_by, Some(WonBy::OnlyMatch));
        assert_eq!(e.registry.as_ref().unwrap().kind, "quay");
        assert!(e.remediation.is_empty());
    }

    #[test]
    fn an_unclassified_pull_error() {
        let line = r#"Failed to pull image "nginx:1.25": rpc error: code = Unknown desc = the frobnicator is on fire"#;
        let e = explain(&builtin(), line, &ctx());
        assert_eq!(e.verdict.kind, VerdictKind::Unclassified);
        assert!(e.verdict.rule.is_none() && e.cause.is_none() && e.remediation.is_empty());
        assert!(e.rules.is_empty());
        assert!(e.verdict.why.contains("add a rule"), "{}", e.verdict.why);
        assert_eq!(
            e.image.as_ref().unwrap().parsed.as_ref().unwrap().reference,
            "docker.io/library/nginx:1.25"
        );
        assert!(human(&e).contains("verdict   unclassified"));
    }

    #[test]
    fn unrelated_lines() {
        let c = builtin();
        // kubeadm's progress line (corpus seed, `none`): a candidate for its
        // pull word, dropped unparsed.
        let e = explain(&c, "I0426 10:38:44.364022    8551 checks.go:855] pulling: registry.k8s.io/kube-apiserver:v1.22.17", &ctx());
        assert_eq!(e.verdict.kind, VerdictKind::Unrelated);
        assert!(e.prefilter.candidate && !e.prefilter.parsed);
        // No literal at all: not even a candidate.
        let e =
            explain(&c, "Dec 10 07:51:15 LabSZ sshd[24324]: Accepted publickey for root", &ctx());
        assert_eq!(e.verdict.kind, VerdictKind::Unrelated);
        assert!(!e.prefilter.candidate && e.rules.is_empty());
        assert!(e.verdict.why.contains("never looks at it"), "{}", e.verdict.why);
        // A pull error at debug level is not reported either, and says why.
        let line = r#"time="2024-01-01T00:00:00Z" level=debug msg="pull failed: the frobnicator is on fire""#;
        let e = explain(&c, line, &ctx());
        assert_eq!(e.verdict.kind, VerdictKind::Unrelated);
        assert!(e.verdict.why.contains("debug-level"), "{}", e.verdict.why);
    }

    #[test]
    fn syslog_wrapped_containerd_logfmt() {
        let e = explain(&builtin(), SYSLOG_CONTAINERD, &ctx());
        assert_eq!(e.envelope, Some("syslog"));
        assert_eq!((e.format, e.emitter, e.level), ("logfmt", "containerd", "error"));
        assert_eq!(e.host.as_deref(), Some("xdlinux"));
        // The logfmt time, with its zone, beats syslog's yearless one.
        assert_eq!(e.time.as_deref(), Some("2025-07-20T15:07:17.338977261Z"));
        assert!(!e.time_naive);
        assert!(e.message.contains(r#"PullImage "registry.aliyuncs.com/"#), "escapes undone");
        assert_eq!(e.verdict.rule.as_deref(), Some("image.not-found-or-denied.pull-access-denied"));
        assert_eq!(e.registry.as_ref().unwrap().kind, "private");
        let text = human(&e);
        assert!(text.contains("envelope syslog  format logfmt  emitter containerd"), "{text}");
        assert!(text.contains("(no steps specific to private for this cause)"), "{text}");
    }

    #[test]
    fn a_priority_tie_is_won_by_load_order() {
        let e = explain(&builtin(), TIED_503, &ctx());
        assert_eq!(e.verdict.rule.as_deref(), Some("registry.unavailable.5xx"));
        assert_eq!(e.verdict.won_by, Some(WonBy::LoadOrder));
        assert_eq!(e.verdict.beaten[0].id, "registry.unavailable.docker-client");
        assert!(e.verdict.why.contains("a tie goes to the rule loaded first"), "{}", e.verdict.why);
    }

    #[test]
    fn rules_that_need_pull_context_are_shown_but_do_not_apply() {
        let line = "api: unauthorized: access to the requested resource is not authorized";
        let e = explain(&builtin(), line, &ctx());
        assert!(!e.pull_context);
        assert_eq!(e.verdict.won_by, Some(WonBy::OnlyMatch));
        let bare = status_of(&e, "auth.unauthorized.bare").unwrap();
        assert_eq!(bare.status, RuleStatus::NeedsPullContext);
        assert!(human(&e).contains("matches, but needs pull context"));
    }

    #[test]
    fn secrets_are_redacted_in_both_outputs() {
        let e = explain(&builtin(), SECRETS, &ctx());
        assert_eq!(e.verdict.rule.as_deref(), Some("auth.unauthorized.token-endpoint"));
        for out in [human(&e), json(&e)] {
            assert!(!out.contains("eyJ"), "token printed: {out}");
            assert!(!out.contains("hunter2secret"), "password printed: {out}");
            assert!(out.contains("REDACTED"), "{out}");
            // The remediation's own `--docker-password=<password>` stays.
            assert!(out.contains("--docker-password=<password>"), "{out}");
        }
    }

    #[test]
    fn json_is_one_object_per_line_with_the_expected_keys() {
        let c = builtin();
        let mut out = Vec::new();
        for line in [KUBELET_DNS, DEBUG_401] {
            write_json(&explain(&c, line, &ctx()), &mut out).unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        let rows: Vec<serde_json::Value> =
            text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(rows.len(), 2);
        let v = &rows[0];
        for key in [
            "line",
            "envelope",
            "format",
            "emitter",
            "level",
            "time",
            "time_naive",
            "host",
            "pod",
            "namespace",
            "container",
            "app",
            "revision",
            "replica",
            "count",
            "image_field",
            "message",
            "prefilter",
            "pull_context",
            "image",
            "registry",
            "rules_total",
            "rules",
            "verdict",
            "cause",
            "remediation",
            "warnings",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert_eq!(v["envelope"], "syslog");
        assert_eq!(v["verdict"]["kind"], "failure");
        assert_eq!(v["verdict"]["won_by"], "priority");
        assert_eq!(v["verdict"]["rule"], "network.dns.lookup");
        assert_eq!(v["rules"][0]["status"], "wins");
        assert_eq!(v["registry"]["kind"], "dockerhub");
        assert_eq!(v["cause"]["id"], "network.dns");
        assert_eq!(v["remediation"][1]["registry_kind"], "dockerhub");
        assert_eq!(v["prefilter"]["pull_word"], true);
        assert_eq!(rows[1]["verdict"]["kind"], "look-alike");
    }

    /// A table with a rule whose literal the raw line cannot hold: the
    /// pattern has a space where the raw logfmt line has a literal `\n`.
    fn table(extra: &str) -> Classifier {
        let mut set = RuleSet::default();
        let text = format!(
            r#"
[[causes]]
id = "x.cause"
title = "X"
[causes.remediation]
general = "fix {{registry}}"

{extra}
"#
        );
        set.add_source("test.toml", &text).unwrap();
        set.add_source("context.toml", include_str!("../rules/context.toml")).unwrap();
        Classifier::new(set).unwrap()
    }

    #[test]
    fn a_rule_the_prefilter_hides_is_flagged() {
        let c = table(
            "[[rules]]\nid = 'x.hidden'\ncause = 'x.cause'\ntitle = 't'\npriority = 80\n\
             patterns = ['errors: denied: nope']\n",
        );
        let line = r#"time="2024-01-01T00:00:00Z" level=error msg="push failed" error="errors:\ndenied: nope""#;
        let e = explain(&c, line, &ctx());
        assert!(e.message.contains("errors: denied: nope"), "{}", e.message);
        let m = status_of(&e, "x.hidden").unwrap();
        assert_eq!(m.status, RuleStatus::HiddenByPrefilter);
        assert!(!m.literal_found);
        // The scan's verdict stands (it never ran the rule), and says so.
        assert_eq!(e.verdict.kind, VerdictKind::Unclassified);
        assert_eq!(e.warnings.len(), 1, "{:?}", e.warnings);
        assert!(e.warnings[0].starts_with("BUG: rule x.hidden"), "{}", e.warnings[0]);
        assert!(e.warnings[0].contains("would have decided this line"));
        let text = human(&e);
        assert!(text.contains("HIDDEN") && text.contains("WARNING   BUG"), "{text}");
    }

    #[test]
    fn a_tie_names_the_rules_it_beat() {
        let rule = |id: &str, prio: i32| {
            format!(
                "[[rules]]\nid = '{id}'\ncause = 'x.cause'\ntitle = 't'\npriority = {prio}\n\
                 patterns = ['frobnicator']\n"
            )
        };
        let c = table(&[rule("x.first", 50), rule("x.second", 50), rule("x.low", 10)].concat());
        let e = explain(&c, "pull failed: frobnicator at https://reg.example.com/v2/", &ctx());
        assert_eq!(e.verdict.rule.as_deref(), Some("x.first"));
        assert_eq!(e.verdict.won_by, Some(WonBy::LoadOrder));
        let ids: Vec<&str> = e.verdict.beaten.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(ids, ["x.second", "x.low"]);
        assert!(e.verdict.why.contains("x.second (50)"), "{}", e.verdict.why);
        assert!(e.verdict.why.contains("It also beat x.low (10)"), "{}", e.verdict.why);
        assert_eq!(e.remediation[0].steps, "fix reg.example.com");
    }

    #[test]
    fn wrapping_keeps_list_items_hanging() {
        let w = wrap("1. one two three four\n  - five six", 12);
        assert_eq!(w, ["1. one two", "   three", "   four", "  - five six"]);
        assert_eq!(wrap("", 10), Vec::<String>::new());
    }

    /// Every builtin rule example and every corpus-seed line: explaining
    /// never panics, and no rule matches a line the prefilter would hide it
    /// from (the prefilter check runs on every rule, not only the example's).
    #[test]
    fn no_line_shows_a_prefilter_bug() {
        let c = builtin();
        let mut lines: Vec<String> =
            c.rules().rules.iter().flat_map(|r| r.examples.iter().cloned()).collect();
        let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
        let shared = if shared.exists() { shared } else { "/work/shared".into() };
        if let Ok(seed) = std::fs::read_to_string(shared.join("corpus-seed/real-lines.jsonl")) {
            for row in seed.lines() {
                let v: serde_json::Value = serde_json::from_str(row).unwrap();
                lines.push(v["line"].as_str().unwrap_or_default().to_string());
            }
        }
        for line in &lines {
            let e = explain(&c, line, &ctx());
            assert!(e.warnings.is_empty(), "{line}\n{:?}", e.warnings);
            let record = format::parse_line(line, &ctx());
            let found = c.prefilter().rules_in(line.as_bytes());
            let rule = c.classify_found(&record, &found).rule();
            assert_eq!(e.verdict.rule, rule.map(|r| c.rules().rules[r].id.clone()), "{line}");
            human(&e);
            json(&e);
        }
    }

    /// Redaction of filled-in steps is done on the values only; this holds
    /// because no builtin template is itself changed by `redact` except
    /// where it shows a placeholder password, which must stay readable.
    #[test]
    fn remediation_templates_are_printed_as_written() {
        let c = builtin();
        let e = explain(&c, SECRETS, &ctx());
        let rule = c.rules().rule("auth.unauthorized.token-endpoint").unwrap();
        let want = summary::fill_in(
            rule.remediation.general.as_deref().unwrap(),
            Some("myacr.azurecr.io"),
            ImageRef::parse("myacr.azurecr.io/app:1").as_ref(),
        );
        assert_eq!(e.remediation[0].steps, want);
    }
}
