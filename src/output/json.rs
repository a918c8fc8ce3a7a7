//! `--output json`: one document. The wire types are private to this file
//! and separate from the internal ones (ripgrep's `jsont.rs`), so the schema
//! only changes on purpose; `SCHEMA_VERSION` says which one this is.

use std::io::{self, Write};

use serde::Serialize;

use crate::redact::redact;
use crate::summary::{CauseReport, Counts, Report, Sample};

/// Bumped on any incompatible change of the JSON or JSONL schema.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    /// Some list had more distinct values than it keeps; the rest are
    /// counted under "other".
    capped: bool,
    stats: StatsWire<'a>,
    /// What to fix first: causes after attribution, ranked by incidents
    /// and images hit.
    root_causes: Vec<RootCauseWire<'a>>,
    attribution: AttributionWire,
    causes: Vec<CauseWire<'a>>,
    incidents: Vec<IncidentWire<'a>>,
    /// The most frequent shapes of the unclassified lines.
    unclassified_templates: Vec<TemplateWire<'a>>,
    images: Vec<ImageWire<'a>>,
    pulled_registries: Vec<Named>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    groups: Vec<GroupWire<'a>>,
}

#[derive(Serialize)]
struct RootCauseWire<'a> {
    cause: &'a str,
    title: &'a str,
    incidents: u64,
    images: u64,
    count: u64,
    /// A symptom that no cause line explained.
    symptom: bool,
}

#[derive(Serialize)]
struct AttributionWire {
    symptoms: u64,
    attributed: u64,
    incident_gap_secs: i64,
    lines_left_out: u64,
}

#[derive(Serialize)]
struct IncidentWire<'a> {
    cause: &'a str,
    image: Option<std::borrow::Cow<'a, str>>,
    first_seen: Option<String>,
    last_seen: Option<String>,
    count: u64,
    lines: u64,
    attributed: u64,
    file: std::borrow::Cow<'a, str>,
    line: u64,
}

#[derive(Serialize)]
struct TemplateWire<'a> {
    template: std::borrow::Cow<'a, str>,
    count: u64,
    lines: u64,
    samples: Vec<SampleWire<'a>>,
}

#[derive(Serialize)]
struct ImageWire<'a> {
    image: std::borrow::Cow<'a, str>,
    failures: u64,
    successes: u64,
    failure_ratio: f64,
}

#[derive(Serialize)]
struct GroupWire<'a> {
    key: std::borrow::Cow<'a, str>,
    count: u64,
    lines: u64,
    causes: Vec<Named>,
    images: Vec<Named>,
    first_seen: Option<String>,
    last_seen: Option<String>,
}

#[derive(Serialize)]
struct StatsWire<'a> {
    inputs: usize,
    #[serde(flatten)]
    counts: CountsWire,
    errors: u64,
    /// Duplicates left out of the summary (`duplicates` counts them).
    dedup: bool,
    duplicates_unchecked: u64,
    per_input: Vec<InputWire<'a>>,
}

#[derive(Serialize)]
struct CountsWire {
    bytes: u64,
    lines: u64,
    candidate: u64,
    classified: u64,
    unclassified: u64,
    benign: u64,
    successful: u64,
    outside_window: u64,
    truncated: u64,
    duplicates: u64,
}

impl From<&Counts> for CountsWire {
    fn from(c: &Counts) -> CountsWire {
        CountsWire {
            bytes: c.bytes,
            lines: c.lines,
            candidate: c.candidate,
            classified: c.classified,
            unclassified: c.unclassified,
            benign: c.benign,
            successful: c.successful,
            outside_window: c.outside_window,
            truncated: c.truncated,
            duplicates: c.duplicates,
        }
    }
}

#[derive(Serialize)]
struct InputWire<'a> {
    path: std::borrow::Cow<'a, str>,
    #[serde(flatten)]
    counts: CountsWire,
    errors: Vec<String>,
    errors_dropped: u64,
}

#[derive(Serialize)]
struct Named {
    name: String,
    count: u64,
}

fn named(items: &[(String, u64)]) -> Vec<Named> {
    items.iter().map(|(n, c)| Named { name: redact(n).into_owned(), count: *c }).collect()
}

#[derive(Serialize)]
struct CauseWire<'a> {
    cause: &'a str,
    title: &'a str,
    count: u64,
    lines: u64,
    attributed_count: u64,
    incidents: u64,
    images_hit: u64,
    first_seen: Option<String>,
    last_seen: Option<String>,
    images: Vec<Named>,
    registries: Vec<Named>,
    hosts: Vec<Named>,
    pods: Vec<Named>,
    rules: Vec<Named>,
    sample: Option<SampleWire<'a>>,
    remediation: Vec<FixWire<'a>>,
    references: &'a [String],
}

#[derive(Serialize)]
struct SampleWire<'a> {
    file: &'a str,
    line: u64,
    text: String,
}

fn sample(s: &Sample) -> SampleWire<'_> {
    SampleWire { file: &s.file, line: s.line, text: redact(&s.text).into_owned() }
}

#[derive(Serialize)]
struct FixWire<'a> {
    registry_kind: Option<&'a str>,
    registry: Option<&'a str>,
    steps: String,
}

fn cause(c: &CauseReport) -> CauseWire<'_> {
    CauseWire {
        cause: &c.cause,
        title: &c.title,
        count: c.count,
        lines: c.lines,
        attributed_count: c.attributed_count,
        incidents: c.incidents,
        images_hit: c.images_hit,
        first_seen: c.first_seen.map(|t| t.to_string()),
        last_seen: c.last_seen.map(|t| t.to_string()),
        images: named(&c.images),
        registries: named(&c.registries),
        hosts: named(&c.hosts),
        pods: named(&c.pods),
        rules: named(&c.rules),
        sample: c.sample.as_ref().map(sample),
        remediation: c
            .remediation
            .iter()
            .map(|f| FixWire {
                registry_kind: f.registry_kind.as_deref(),
                registry: f.registry.as_deref(),
                steps: f.steps.clone(),
            })
            .collect(),
        references: &c.references,
    }
}

/// Write the JSON document.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let doc = Document {
        schema_version: SCHEMA_VERSION,
        capped: report.capped,
        stats: StatsWire {
            inputs: report.stats.inputs.len(),
            counts: (&report.stats.total).into(),
            errors: report.stats.errors,
            dedup: report.stats.dedup,
            duplicates_unchecked: report.stats.duplicates_unchecked,
            per_input: report
                .stats
                .inputs
                .iter()
                .map(|i| InputWire {
                    path: redact(&i.path),
                    counts: (&i.counts).into(),
                    errors: i.errors.iter().map(|e| redact(e).into_owned()).collect(),
                    errors_dropped: i.errors_dropped,
                })
                .collect(),
        },
        root_causes: report
            .root_causes
            .iter()
            .map(|r| RootCauseWire {
                cause: &r.cause,
                title: &r.title,
                incidents: r.incidents,
                images: r.images,
                count: r.count,
                symptom: r.symptom,
            })
            .collect(),
        attribution: AttributionWire {
            symptoms: report.attribution.symptoms,
            attributed: report.attribution.attributed,
            incident_gap_secs: report.attribution.incident_gap_secs,
            lines_left_out: report.attribution.lines_left_out,
        },
        causes: report.causes.iter().map(cause).collect(),
        incidents: report
            .incidents
            .iter()
            .map(|i| IncidentWire {
                cause: &i.cause,
                image: i.image.as_deref().map(redact),
                first_seen: i.first_seen.map(|t| t.to_string()),
                last_seen: i.last_seen.map(|t| t.to_string()),
                count: i.count,
                lines: i.lines,
                attributed: i.attributed,
                file: redact(&i.file),
                line: i.line,
            })
            .collect(),
        unclassified_templates: report
            .templates
            .iter()
            .map(|t| TemplateWire {
                template: redact(&t.template),
                count: t.count,
                lines: t.lines,
                samples: t.samples.iter().map(sample).collect(),
            })
            .collect(),
        images: report
            .images
            .iter()
            .map(|i| ImageWire {
                image: redact(&i.image),
                failures: i.failures,
                successes: i.successes,
                failure_ratio: (i.failure_ratio() * 1000.0).round() / 1000.0,
            })
            .collect(),
        pulled_registries: named(&report.pulled_registries),
        groups: report
            .groups
            .iter()
            .map(|g| GroupWire {
                key: redact(&g.key),
                count: g.count,
                lines: g.lines,
                causes: named(&g.causes),
                images: named(&g.images),
                first_seen: g.first_seen.map(|t| t.to_string()),
                last_seen: g.last_seen.map(|t| t.to_string()),
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}
