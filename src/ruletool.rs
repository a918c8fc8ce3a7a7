//! The `pullscan rules …` commands: list, show, test and lint the rule
//! table (issue 6).
//!
//! The rule table is data that users extend (`--rules DIR`), so they need
//! the same tools the builtin table gets from `cargo test`: see what is
//! loaded (`list`, `show`), run the examples and counterexamples of their
//! own rules against the whole table (`test`, the same
//! [`rules::check`] that `tests/rules.rs` runs), and find rules that cannot
//! do what they were written for (`lint`). Everything here works on a
//! loaded [`RuleSet`] or [`Classifier`] and writes to a `dyn Write`; the
//! arguments and exit codes belong to `app`.
//!
//! Examples are classified exactly as real lines are: parsed by
//! [`format::parse_line`] (envelopes removed, escapes undone), prefiltered
//! by literal and matched against every rule, the highest priority
//! winning. `lint` goes one step further than `test`: for each example it
//! looks at every rule that applies, not only the winner, so that it can
//! tell a lost example (`shadowed-example`) from a tie that only load order
//! decides (`equal-priority-overlap`).

mod lint;

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use anyhow::{bail, Result};
use serde::Serialize;

use crate::classify::Classifier;
use crate::format::{self, LineContext};
use crate::rules::{self, Cause, CauseKind, Problem, Remediation, Rule, RuleSet};

pub use lint::{findings, lint, Finding, LintKind, Severity};

/// The year given to yearless timestamps in examples. It cannot change a
/// verdict (rules see only the message), but parsing needs one.
const EXAMPLE_YEAR: i32 = 2024;

/// How many close ids an unknown-id error names.
const MAX_SUGGESTIONS: usize = 5;

// ---------------------------------------------------------------- list

/// List every rule (id, cause, priority, title) in load order, then every
/// cause (id, kind, number of rules, title).
///
/// Load order, not sorted by cause or id: it is the order that breaks
/// priority ties, it follows the rule files (builtin files by name, then
/// each `--rules` file), and so a snapshot diff of this list shows an
/// edit next to its neighbours in the file that was edited. Causes are
/// listed too so that every public id (rule and cause) is in the list,
/// including causes that no rule points at.
pub fn list(set: &RuleSet, json: bool, out: &mut dyn Write) -> io::Result<()> {
    if json {
        return write_json(out, &ListWire::new(set));
    }
    let rules: Vec<[String; 4]> = set
        .rules
        .iter()
        .map(|r| {
            let cause = set.cause_of(r).id.clone();
            [r.id.clone(), cause, r.priority.to_string(), r.title.clone()]
        })
        .collect();
    writeln!(out, "{} rules:", rules.len())?;
    write_columns(out, ["RULE", "CAUSE", "PRIORITY", "TITLE"], &rules)?;
    let causes: Vec<[String; 4]> = set
        .causes
        .iter()
        .map(|c| {
            let n = rules_of(set, c).count();
            [c.id.clone(), kind_name(c.kind).into(), n.to_string(), c.title.clone()]
        })
        .collect();
    writeln!(out)?;
    writeln!(out, "{} causes:", causes.len())?;
    write_columns(out, ["CAUSE", "KIND", "RULES", "TITLE"], &causes)
}

/// Left-aligned columns separated by two spaces; the last column is not
/// padded, so no line has trailing blanks.
fn write_columns<const N: usize>(
    out: &mut dyn Write,
    header: [&str; N],
    rows: &[[String; N]],
) -> io::Result<()> {
    let mut width = header.map(str::len);
    for row in rows {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let header = header.map(String::from);
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == N {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = width[i]));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

#[derive(Serialize)]
struct ListWire<'a> {
    rules: Vec<ListRule<'a>>,
    causes: Vec<ListCause<'a>>,
}

#[derive(Serialize)]
struct ListRule<'a> {
    id: &'a str,
    cause: &'a str,
    priority: i32,
    title: &'a str,
    origin: &'a str,
}

#[derive(Serialize)]
struct ListCause<'a> {
    id: &'a str,
    kind: &'static str,
    rules: usize,
    title: &'a str,
    origin: &'a str,
}

impl<'a> ListWire<'a> {
    fn new(set: &'a RuleSet) -> ListWire<'a> {
        let rules = set
            .rules
            .iter()
            .map(|r| ListRule {
                id: &r.id,
                cause: &set.cause_of(r).id,
                priority: r.priority,
                title: &r.title,
                origin: &r.origin,
            })
            .collect();
        let causes = set
            .causes
            .iter()
            .map(|c| ListCause {
                id: &c.id,
                kind: kind_name(c.kind),
                rules: rules_of(set, c).count(),
                title: &c.title,
                origin: &c.origin,
            })
            .collect();
        ListWire { rules, causes }
    }
}

// ---------------------------------------------------------------- show

/// Print everything about one rule or cause id.
///
/// A rule: its cause, title, priority and place in load order,
/// `needs_pull_context`, patterns, the prefilter literals derived from
/// them, remediation (the cause's with the rule's overrides applied, each
/// entry marked with where it comes from), references, examples,
/// counterexamples and origin file. A cause: its kind, title,
/// description, remediation, references and the rules that point at it.
/// An id that names both (a rule named after its cause) shows both.
///
/// An unknown id is an error that names the closest known ids.
pub fn show(set: &RuleSet, id: &str, json: bool, out: &mut dyn Write) -> Result<()> {
    let rule = set.rules.iter().position(|r| r.id == id);
    let cause = set.cause(id);
    if rule.is_none() && cause.is_none() {
        bail!("{}", unknown_id(set, id));
    }
    if json {
        let doc = ShowWire {
            rule: rule.map(|i| RuleWire::new(set, i)),
            cause: cause.map(|c| CauseWire::new(set, c)),
        };
        write_json(out, &doc)?;
        return Ok(());
    }
    if let Some(i) = rule {
        show_rule(set, i, out)?;
    }
    if let Some(c) = cause {
        if rule.is_some() {
            writeln!(out)?;
        }
        show_cause(set, c, out)?;
    }
    Ok(())
}

fn show_rule(set: &RuleSet, i: usize, out: &mut dyn Write) -> io::Result<()> {
    let r = &set.rules[i];
    let c = set.cause_of(r);
    writeln!(out, "rule:               {}", r.id)?;
    writeln!(out, "title:              {}", r.title)?;
    writeln!(out, "cause:              {} ({}): {}", c.id, kind_name(c.kind), c.title)?;
    writeln!(
        out,
        "priority:           {} (load order {} of {})",
        r.priority,
        i + 1,
        set.rules.len()
    )?;
    writeln!(out, "needs_pull_context: {}", r.needs_pull_context)?;
    writeln!(out, "origin:             {}", r.origin)?;
    writeln!(out, "patterns:")?;
    for p in &r.patterns {
        writeln!(out, "  '''{p}'''")?;
    }
    writeln!(out, "prefilter literals (a line must hold one, any case):")?;
    for l in &r.literals {
        writeln!(out, "  {l:?}")?;
    }
    writeln!(out, "remediation:")?;
    for (key, from, steps) in rule_remediation(r, c) {
        writeln!(out, "  {key} (from the {from}):")?;
        write_indented(out, steps, "    ")?;
    }
    write_list(out, "references", &r.references)?;
    write_list(out, "examples", &r.examples)?;
    write_list(out, "counterexamples", &r.counterexamples)
}

fn show_cause(set: &RuleSet, c: &Cause, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "cause:   {}", c.id)?;
    writeln!(out, "title:   {}", c.title)?;
    writeln!(out, "kind:    {}", kind_name(c.kind))?;
    writeln!(out, "origin:  {}", c.origin)?;
    if !c.description.is_empty() {
        writeln!(out, "description:")?;
        write_indented(out, &c.description, "  ")?;
    }
    let rules: Vec<String> = rules_of(set, c)
        .map(|r| format!("{} (priority {}): {}", r.id, r.priority, r.title))
        .collect();
    write_list(out, "rules", &rules)?;
    writeln!(out, "remediation:")?;
    for (key, steps) in remediation_entries(&c.remediation) {
        writeln!(out, "  {key}:")?;
        write_indented(out, steps, "    ")?;
    }
    write_list(out, "references", &c.references)
}

fn write_list(out: &mut dyn Write, name: &str, items: &[String]) -> io::Result<()> {
    writeln!(out, "{name} ({}):", items.len())?;
    for item in items {
        writeln!(out, "  {item}")?;
    }
    Ok(())
}

fn write_indented(out: &mut dyn Write, text: &str, indent: &str) -> io::Result<()> {
    for line in text.trim_end().lines() {
        writeln!(out, "{}", format!("{indent}{line}").trim_end())?;
    }
    Ok(())
}

/// The set entries of a remediation, in the order of the README.
fn remediation_entries(rem: &Remediation) -> Vec<(&'static str, &str)> {
    let keys = [
        ("general", &rem.general),
        ("acr", &rem.acr),
        ("ecr", &rem.ecr),
        ("gcr", &rem.gcr),
        ("gar", &rem.gar),
        ("dockerhub", &rem.dockerhub),
        ("ghcr", &rem.ghcr),
        ("quay", &rem.quay),
        ("mcr", &rem.mcr),
        ("private", &rem.private),
    ];
    keys.into_iter().filter_map(|(k, v)| v.as_deref().map(|v| (k, v))).collect()
}

/// A rule's remediation (already merged with its cause's at load), each
/// entry with where it comes from: `cause` when it is the cause's text,
/// else `rule` (the rule overrides that key).
fn rule_remediation<'a>(r: &'a Rule, c: &Cause) -> Vec<(&'static str, &'static str, &'a str)> {
    let of_cause: HashMap<&str, &str> = remediation_entries(&c.remediation).into_iter().collect();
    remediation_entries(&r.remediation)
        .into_iter()
        .map(|(k, v)| (k, if of_cause.get(k) == Some(&v) { "cause" } else { "rule" }, v))
        .collect()
}

#[derive(Serialize)]
struct ShowWire<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<RuleWire<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<CauseWire<'a>>,
}

#[derive(Serialize)]
struct RuleWire<'a> {
    id: &'a str,
    title: &'a str,
    cause: &'a str,
    cause_kind: &'static str,
    cause_title: &'a str,
    priority: i32,
    /// 1-based place in load order (what breaks priority ties).
    load_order: usize,
    needs_pull_context: bool,
    origin: &'a str,
    patterns: &'a [String],
    literals: &'a [String],
    remediation: Vec<FixWire<'a>>,
    references: &'a [String],
    examples: &'a [String],
    counterexamples: &'a [String],
}

#[derive(Serialize)]
struct FixWire<'a> {
    key: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<&'static str>,
    steps: &'a str,
}

#[derive(Serialize)]
struct CauseWire<'a> {
    id: &'a str,
    title: &'a str,
    kind: &'static str,
    description: &'a str,
    origin: &'a str,
    rules: Vec<&'a str>,
    remediation: Vec<FixWire<'a>>,
    references: &'a [String],
}

impl<'a> RuleWire<'a> {
    fn new(set: &'a RuleSet, i: usize) -> RuleWire<'a> {
        let r = &set.rules[i];
        let c = set.cause_of(r);
        RuleWire {
            id: &r.id,
            title: &r.title,
            cause: &c.id,
            cause_kind: kind_name(c.kind),
            cause_title: &c.title,
            priority: r.priority,
            load_order: i + 1,
            needs_pull_context: r.needs_pull_context,
            origin: &r.origin,
            patterns: &r.patterns,
            literals: &r.literals,
            remediation: rule_remediation(r, c)
                .into_iter()
                .map(|(key, from, steps)| FixWire { key, from: Some(from), steps })
                .collect(),
            references: &r.references,
            examples: &r.examples,
            counterexamples: &r.counterexamples,
        }
    }
}

impl<'a> CauseWire<'a> {
    fn new(set: &'a RuleSet, c: &'a Cause) -> CauseWire<'a> {
        CauseWire {
            id: &c.id,
            title: &c.title,
            kind: kind_name(c.kind),
            description: &c.description,
            origin: &c.origin,
            rules: rules_of(set, c).map(|r| r.id.as_str()).collect(),
            remediation: remediation_entries(&c.remediation)
                .into_iter()
                .map(|(key, steps)| FixWire { key, from: None, steps })
                .collect(),
            references: &c.references,
        }
    }
}

/// "no rule or cause X", naming the closest known ids.
fn unknown_id(set: &RuleSet, id: &str) -> String {
    let ids = set.rules.iter().map(|r| r.id.as_str()).chain(set.causes.iter().map(|c| &*c.id));
    let close = close_ids(id, ids);
    if close.is_empty() {
        format!("no rule or cause {id:?} (`pullscan rules list` lists them)")
    } else {
        format!("no rule or cause {id:?}; did you mean {}?", close.join(", "))
    }
}

/// The known ids closest to a mistyped one: those within a small edit
/// distance (a third of the id's length, at least 2), and those the typed
/// text is part of (`dns` for `network.dns`). Closest first, at most
/// [`MAX_SUGGESTIONS`].
fn close_ids<'a>(id: &str, known: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let limit = (id.chars().count() / 3).max(2);
    let mut close: Vec<(usize, &str)> = known
        .filter_map(|k| {
            let d = edit_distance(id, k);
            let contained = id.len() >= 3 && k.contains(id);
            (d <= limit || contained).then_some((d, k))
        })
        .collect();
    close.sort();
    close.dedup_by_key(|&mut (_, k)| k);
    close.into_iter().take(MAX_SUGGESTIONS).map(|(_, k)| k).collect()
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

// ---------------------------------------------------------------- test

/// Run the examples and counterexamples of every rule whose origin is
/// under `only` (a `--rules` directory or file the classifier was loaded
/// with), or of every rule when `only` is `None`; returns `Ok(true)` when
/// all pass.
///
/// Lines are classified by the whole table, builtin and user rules
/// together, so a user rule that loses its example to a builtin rule
/// fails. With `only`, a rule under it that takes a builtin rule's example
/// away from that rule's cause, or classifies a builtin counterexample as
/// the cause it must not be, fails too: that is the user's rule breaking
/// the table. Problems of rules outside `only` are otherwise not reported
/// (they are the builtin table's, tested by `cargo test`).
///
/// Human output: one line per failure, then `N rules, M examples, K
/// counterexamples: ok` (or `: failed, P problems`). JSON: one document
/// `{"rules", "examples", "counterexamples", "failures": [{"file", "rule",
/// "message"}], "ok"}`.
///
/// It is an error when `only` is given and no rule or cause came from it
/// (the directory was not loaded, or holds no `*.toml` file).
pub fn test(
    classifier: &Classifier,
    only: Option<&Path>,
    json: bool,
    out: &mut dyn Write,
) -> Result<bool> {
    let set = classifier.rules();
    let scope = Scope::new(set, only);
    if only.is_some() && scope.rules.iter().chain(&scope.causes).all(|&s| !s) {
        bail!(
            "no rule or cause was loaded from {} (give it to --rules; it needs *.toml files)",
            only.map_or_else(String::new, |p| p.display().to_string())
        );
    }
    let ctx = LineContext::in_year(EXAMPLE_YEAR);
    let classify = |line: &str| classifier.classify(&format::parse_line(line, &ctx)).rule();
    let matches =
        |rule: usize, line: &str| classifier.rule_applies(rule, &format::parse_line(line, &ctx));
    let mut failures: Vec<Problem> = rules::check(set, &classify, &matches)
        .into_iter()
        .filter(|p| scope.has(set, &p.rule, &p.file))
        .collect();
    if only.is_some() {
        failures.extend(intrusions(set, &scope, &classify));
    }
    let tested = || set.rules.iter().zip(&scope.rules).filter(|(_, &s)| s).map(|(r, _)| r);
    let doc = TestWire {
        rules: tested().count(),
        examples: tested().map(|r| r.examples.len()).sum(),
        counterexamples: tested().map(|r| r.counterexamples.len()).sum(),
        ok: failures.is_empty(),
        failures: failures
            .iter()
            .map(|p| ProblemWire { file: &p.file, rule: &p.rule, message: &p.message })
            .collect(),
    };
    if json {
        write_json(out, &doc)?;
    } else {
        for p in &failures {
            writeln!(out, "{p}")?;
        }
        let verdict = if doc.ok {
            "ok".to_string()
        } else {
            let n = failures.len();
            format!("failed, {n} problem{}", if n == 1 { "" } else { "s" })
        };
        writeln!(
            out,
            "{} rules, {} examples, {} counterexamples: {verdict}",
            doc.rules, doc.examples, doc.counterexamples
        )?;
    }
    Ok(doc.ok)
}

#[derive(Serialize)]
struct TestWire<'a> {
    rules: usize,
    examples: usize,
    counterexamples: usize,
    failures: Vec<ProblemWire<'a>>,
    ok: bool,
}

#[derive(Serialize)]
struct ProblemWire<'a> {
    file: &'a str,
    rule: &'a str,
    message: &'a str,
}

/// Which rules and causes are tested: those whose origin is under `only`.
struct Scope {
    /// Per rule index.
    rules: Vec<bool>,
    /// Per cause index.
    causes: Vec<bool>,
}

impl Scope {
    fn new(set: &RuleSet, only: Option<&Path>) -> Scope {
        let Some(only) = only else {
            return Scope {
                rules: vec![true; set.rules.len()],
                causes: vec![true; set.causes.len()],
            };
        };
        // `load_dir` names files `DIR/NAME` with DIR as given; compare
        // canonical paths so `./dir`, `dir/` and an absolute path agree.
        let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let only = canonical(only);
        let under = |origin: &str| canonical(Path::new(origin)).starts_with(&only);
        let rules = set.rules.iter().map(|r| under(&r.origin)).collect();
        let causes = set.causes.iter().map(|c| under(&c.origin)).collect();
        Scope { rules, causes }
    }

    /// Whether a problem of `rules::check` (about rule or cause `id`,
    /// defined in `file`) is in scope.
    fn has(&self, set: &RuleSet, id: &str, file: &str) -> bool {
        let rule = set.rules.iter().position(|r| r.id == id && r.origin == file);
        let cause = set.causes.iter().position(|c| c.id == id && c.origin == file);
        rule.is_some_and(|i| self.rules[i]) || cause.is_some_and(|i| self.causes[i])
    }
}

/// Rules in scope that break the examples or counterexamples of rules out
/// of scope, as problems of the rule in scope.
fn intrusions(
    set: &RuleSet,
    scope: &Scope,
    classify: &dyn Fn(&str) -> Option<usize>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (r, _) in set.rules.iter().zip(&scope.rules).filter(|(_, &s)| !s) {
        let cause = &set.cause_of(r).id;
        let mut say = |w: usize, message: String| {
            let w = &set.rules[w];
            problems.push(Problem { file: w.origin.clone(), rule: w.id.clone(), message });
        };
        for ex in &r.examples {
            let by_scope = |&w: &usize| scope.rules[w] && set.rules[w].cause != r.cause;
            if let Some(w) = classify(ex).filter(by_scope) {
                let now = &set.cause_of(&set.rules[w]).id;
                let (id, origin, priority) = (&r.id, &r.origin, r.priority);
                say(
                    w,
                    format!(
                        "wins example {ex:?} of rule {id} ({origin}, cause {cause}, priority \
                         {priority}): the line is classified as {now} instead"
                    ),
                );
            }
        }
        for cx in &r.counterexamples {
            let by_scope = |&w: &usize| scope.rules[w] && set.rules[w].cause == r.cause;
            if let Some(w) = classify(cx).filter(by_scope) {
                let (id, origin) = (&r.id, &r.origin);
                say(
                    w,
                    format!("classifies counterexample {cx:?} of rule {id} ({origin}) as {cause}"),
                );
            }
        }
    }
    problems
}

// ---------------------------------------------------------------- shared

/// The rules that point at a cause, in load order.
fn rules_of<'a>(set: &'a RuleSet, cause: &'a Cause) -> impl Iterator<Item = &'a Rule> + 'a {
    set.rules.iter().filter(move |r| set.cause_of(r).id == cause.id)
}

fn kind_name(kind: CauseKind) -> &'static str {
    match kind {
        CauseKind::Failure => "failure",
        CauseKind::Success => "success",
        CauseKind::Benign => "benign",
    }
}

/// Pretty JSON and a final newline.
fn write_json<T: Serialize>(out: &mut dyn Write, doc: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, doc)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two causes, two rules, every example won by its own rule.
    pub(super) const CLEAN: &str = r#"
[[causes]]
id = "t.alpha"
title = "Alpha"
[causes.remediation]
general = "fix alpha"
acr = "alpha on acr"

[[causes]]
id = "t.beta"
title = "Beta"
references = ["https://example.com/beta"]
[causes.remediation]
general = "fix beta"

[[rules]]
id = "t.alpha.main"
cause = "t.alpha"
title = "Alpha main"
patterns = ['alpha failure']
examples = ['pull x: alpha failure']
counterexamples = ['pull x: beta crash']
[rules.remediation]
ecr = "rule ecr steps"

[[rules]]
id = "t.beta.main"
cause = "t.beta"
title = "Beta main"
priority = 60
patterns = ['beta crash']
examples = ['pull x: beta crash']
"#;

    pub(super) fn set_of(text: &str) -> RuleSet {
        let mut set = RuleSet::default();
        set.add_source("t.toml", text).expect("fixture loads");
        set
    }

    pub(super) fn classifier_of(text: &str) -> Classifier {
        Classifier::new(set_of(text)).expect("prefilter builds")
    }

    pub(super) fn text_of(f: impl FnOnce(&mut dyn Write) -> Result<bool>) -> (bool, String) {
        let mut out = Vec::new();
        let ok = f(&mut out).unwrap();
        (ok, String::from_utf8(out).unwrap())
    }

    pub(super) fn builtin_classifier() -> Classifier {
        Classifier::new(rules::builtin().unwrap()).unwrap()
    }

    #[test]
    fn list_is_aligned_in_load_order_with_causes() {
        let mut out = Vec::new();
        list(&set_of(CLEAN), false, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let expected = "\
2 rules:
RULE          CAUSE    PRIORITY  TITLE
t.alpha.main  t.alpha  50        Alpha main
t.beta.main   t.beta   60        Beta main

2 causes:
CAUSE    KIND     RULES  TITLE
t.alpha  failure  1      Alpha
t.beta   failure  1      Beta
";
        assert_eq!(text, expected);
    }

    #[test]
    fn list_json_has_rules_and_causes() {
        let mut out = Vec::new();
        list(&set_of(CLEAN), true, &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["rules"][1]["id"], "t.beta.main");
        assert_eq!(v["rules"][1]["cause"], "t.beta");
        assert_eq!(v["rules"][1]["priority"], 60);
        assert_eq!(v["rules"][1]["origin"], "t.toml");
        assert_eq!(v["causes"][0]["kind"], "failure");
        assert_eq!(v["causes"][0]["rules"], 1);
    }

    #[test]
    fn show_rule_prints_everything() {
        let mut out = Vec::new();
        show(&set_of(CLEAN), "t.alpha.main", false, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        for want in [
            "rule:               t.alpha.main\n",
            "cause:              t.alpha (failure): Alpha\n",
            "priority:           50 (load order 1 of 2)\n",
            "needs_pull_context: false\n",
            "origin:             t.toml\n",
            "  '''alpha failure'''\n",
            "  \"alpha failure\"\n",
            "  general (from the cause):\n    fix alpha\n",
            "  acr (from the cause):\n    alpha on acr\n",
            "  ecr (from the rule):\n    rule ecr steps\n",
            "examples (1):\n  pull x: alpha failure\n",
            "counterexamples (1):\n  pull x: beta crash\n",
        ] {
            assert!(text.contains(want), "{want:?} not in:\n{text}");
        }
    }

    #[test]
    fn show_cause_lists_its_rules_and_remediation() {
        let mut out = Vec::new();
        show(&set_of(CLEAN), "t.beta", false, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("cause:   t.beta\n"), "{text}");
        assert!(text.contains("rules (1):\n  t.beta.main (priority 60): Beta main\n"), "{text}");
        assert!(text.contains("  general:\n    fix beta\n"), "{text}");
        assert!(text.contains("references (1):\n  https://example.com/beta\n"), "{text}");
    }

    #[test]
    fn show_json_of_an_id_naming_a_rule_and_a_cause_has_both() {
        let mut set = set_of(CLEAN);
        set.add_rules(
            "u.toml",
            "[[rules]]\nid='t.beta'\ncause='t.beta'\ntitle='same id'\npatterns=['beta blast']\n",
        )
        .unwrap();
        let mut out = Vec::new();
        show(&set, "t.beta", true, &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["rule"]["id"], "t.beta");
        assert_eq!(v["rule"]["load_order"], 3);
        assert_eq!(v["rule"]["literals"][0], "beta blast");
        assert_eq!(v["rule"]["remediation"][0]["from"], "cause");
        assert_eq!(v["cause"]["rules"], serde_json::json!(["t.beta.main", "t.beta"]));
        assert!(v["cause"]["remediation"][0].get("from").is_none());
    }

    #[test]
    fn show_unknown_id_names_close_ids() {
        let mut out = Vec::new();
        let e = show(&set_of(CLEAN), "t.alpha.mian", false, &mut out).unwrap_err();
        assert!(e.to_string().contains("did you mean t.alpha.main"), "{e}");
        let e = show(&set_of(CLEAN), "nothing.like.it", false, &mut out).unwrap_err();
        assert!(e.to_string().contains("rules list"), "{e}");
        assert!(out.is_empty());
    }

    #[test]
    fn close_ids_rank_by_distance_and_take_substrings() {
        let known = ["network.dns", "network.timeout", "auth.denied", "auth.unauthorized"];
        assert_eq!(close_ids("network.dsn", known.into_iter()), vec!["network.dns"]);
        assert_eq!(close_ids("auth", known.into_iter()), vec!["auth.denied", "auth.unauthorized"]);
        assert!(close_ids("zz", known.into_iter()).is_empty());
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn test_passes_a_clean_set() {
        let c = classifier_of(CLEAN);
        let (ok, text) = text_of(|out| test(&c, None, false, out));
        assert!(ok);
        assert_eq!(text, "2 rules, 2 examples, 1 counterexamples: ok\n");
        let (ok, text) = text_of(|out| test(&c, None, true, out));
        assert!(ok);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let want = serde_json::json!({"rules": 2, "examples": 2, "counterexamples": 1,
            "failures": [], "ok": true});
        assert_eq!(v, want);
    }

    #[test]
    fn test_fails_on_a_broken_user_dir_and_reports_only_its_rules() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mine.toml");
        // One rule that misses its example, one whose example a builtin
        // DNS rule (priority 70+) wins.
        let text = r#"
[[rules]]
id = "user.miss"
cause = "network.dns"
title = "misses"
patterns = ['resolver exploded']
examples = ['pull x: the resolver melted']

[[rules]]
id = "user.lost"
cause = "registry.rate-limit"
title = "loses"
priority = 5
patterns = ['no such host']
examples = ['Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.0.0.2:53: no such host']
"#;
        std::fs::write(&file, text).unwrap();
        let mut set = rules::builtin().unwrap();
        rules::load_dir(&mut set, dir.path()).unwrap();
        let c = Classifier::new(set).unwrap();
        let (ok, out) = text_of(|out| test(&c, Some(dir.path()), true, out));
        assert!(!ok);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["rules"], 2);
        assert_eq!(v["examples"], 2);
        assert_eq!(v["ok"], false);
        let failures = v["failures"].as_array().unwrap();
        assert_eq!(failures.len(), 2, "{out}");
        assert!(failures.iter().all(|f| f["file"] == file.display().to_string()), "{out}");
        assert_eq!(failures[0]["rule"], "user.miss");
        assert!(failures[0]["message"].as_str().unwrap().contains("does not match"));
        assert_eq!(failures[1]["rule"], "user.lost");
        assert!(failures[1]["message"].as_str().unwrap().contains("cause network.dns"), "{out}");

        let (ok, out) = text_of(|out| test(&c, Some(dir.path()), false, out));
        assert!(!ok);
        assert!(out.ends_with("2 rules, 2 examples, 0 counterexamples: failed, 2 problems\n"));
        assert!(out.starts_with(&format!("{}: rule user.miss: ", file.display())), "{out}");
    }

    #[test]
    fn test_reports_a_user_rule_that_takes_builtin_examples() {
        let dir = tempfile::tempdir().unwrap();
        let text = r#"
[[rules]]
id = "user.greedy"
cause = "auth.denied"
title = "greedy"
priority = 99
patterns = ['no such host']
examples = ['pull x: no such host']
"#;
        std::fs::write(dir.path().join("greedy.toml"), text).unwrap();
        let mut set = rules::builtin().unwrap();
        rules::load_dir(&mut set, dir.path()).unwrap();
        let c = Classifier::new(set).unwrap();
        let (ok, out) = text_of(|out| test(&c, Some(dir.path()), false, out));
        assert!(!ok);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() > 1, "{out}");
        for l in &lines[..lines.len() - 1] {
            assert!(l.contains(": rule user.greedy: wins example "), "{l}");
            assert!(l.contains("classified as auth.denied instead"), "{l}");
        }
        assert_eq!(
            lines[lines.len() - 1],
            "1 rules, 1 examples, 0 counterexamples: failed, {}"
                .replace("{}", &format!("{} problems", lines.len() - 1))
        );
    }

    #[test]
    fn test_of_a_dir_that_was_not_loaded_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let c = classifier_of(CLEAN);
        let e = test(&c, Some(dir.path()), false, &mut Vec::new()).unwrap_err();
        assert!(e.to_string().contains("no rule or cause was loaded from"), "{e}");
    }
}
