//! `pullscan rules export`: the rule table as a query that classifies
//! inside a log engine (issue 7): KQL for Azure Log Analytics, LogQL for
//! Loki, SPL for Splunk.
//!
//! The query does what [`Classifier`](crate::classify::Classifier) does to
//! a message, as far as the engine can:
//!
//! 1. **Unescape** the log text the way [`format`](mod@crate::format)
//!    does for the common cases: a run of backslashes before `"` becomes
//!    `"`, `\u0027` becomes `'`, escaped or real line breaks and tabs
//!    become one space. (pullscan also removes envelopes and keeps only
//!    the message of logfmt / klog / JSON lines; the engine classifies the
//!    whole column text.)
//! 2. **Debug-level lines are never failures**: pullscan reads the level
//!    its parsers find; the query approximates it with [`DEBUG`], a regex
//!    for `level=debug` / `"level":"debug"` / logrus `DEBU[`, and drops
//!    such lines before any rule (a failure on a debug line is a
//!    look-alike, an unclassified one unrelated: neither is reported).
//! 3. **First match wins, in pullscan's winner order**: rules sorted by
//!    priority (highest first), then load order, in one first-match-wins
//!    construct (KQL and SPL `case()`, a LogQL `label_format` template
//!    `if / else if` chain). Success and benign rules take part (they beat
//!    the failures they resemble) and are filtered out afterwards.
//!    `needs_pull_context` rules also require the rule table's pull or
//!    topic context (`rules/context.toml`). A line with a pull-context
//!    word and an error word that no rule claims is `unclassified`.
//! 4. **Summarize** failures by cause and image (a regex for the common
//!    `image "…"` / `image=…` / `pull access denied for …` anchors, a
//!    subset of [`find_image`](crate::image::find_image)).
//!
//! Every rule pattern is parsed with `regex-syntax` and re-emitted for the
//! target's dialect (RE2 for KQL and LogQL, PCRE for SPL). What a dialect
//! cannot express, or would express with another meaning, is refused with
//! an error naming the rule, the pattern and the feature; nothing is
//! silently changed. Refused everywhere: Unicode classes (`\pL`), class
//! set operations (`&&`, `--`, `~~`), negated nested classes, the
//! `\b{start}` / `\<` family of word boundaries, the CRLF flag `R`,
//! turning Unicode off (`(?-u)`). Refused for RE2: counted repetition
//! above 1000. Refused for SPL: non-ASCII characters (Splunk's PCRE may
//! run without UTF mode, where they are bytes) and counts above 65535.
//!
//! Accepted with a documented difference (it only shows on non-ASCII
//! text): pullscan's `\b`, `\w`, `\d`, `\s` and case folding are
//! Unicode-aware, RE2's and PCRE's perl classes and `\b` are ASCII. Every
//! builtin rule uses `\b` and their examples are ASCII, so refusing these
//! would refuse the whole table.
//!
//! This module knows nothing of the CLI: `app` passes a loaded
//! [`RuleSet`] and a writer.

use std::fmt::Write as _;
use std::io::Write;
use std::str::FromStr;

use anyhow::{anyhow, Result};
use regex_syntax::ast::{self, Ast};

use crate::classify;
use crate::rules::{CauseKind, Rule, RuleSet};

/// A query language to export to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Kusto (Azure Log Analytics, Azure Data Explorer).
    Kql,
    /// Grafana Loki.
    Logql,
    /// Splunk's search processing language.
    Spl,
}

impl Target {
    /// Every target, in the order `--to` lists them.
    pub const ALL: [Target; 3] = [Target::Kql, Target::Logql, Target::Spl];

    /// The name on the command line (`kql`, `logql`, `spl`), also the
    /// golden files' extension.
    pub fn name(self) -> &'static str {
        match self {
            Target::Kql => "kql",
            Target::Logql => "logql",
            Target::Spl => "spl",
        }
    }

    fn dialect(self) -> Dialect {
        match self {
            Target::Kql | Target::Logql => Dialect::Re2,
            Target::Spl => Dialect::Pcre,
        }
    }
}

impl FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Target, String> {
        Target::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown export target {s:?} (use kql, logql or spl)"))
    }
}

/// The Log Analytics table a KQL query reads (`--table`); ignored by the
/// other targets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KqlTable {
    /// Container Apps system logs, custom-log table (`Log_s`).
    #[default]
    ContainerAppSystemLogsCl,
    /// Container Apps system logs, resource-specific table (`Log`).
    ContainerAppSystemLogs,
    /// AKS Container insights Kubernetes events (`Message`).
    KubeEvents,
    /// AKS Container insights container logs (`LogMessage`, dynamic).
    ContainerLogV2,
}

impl KqlTable {
    /// Every table, in the order `--table` lists them.
    pub const ALL: [KqlTable; 4] = [
        KqlTable::ContainerAppSystemLogsCl,
        KqlTable::ContainerAppSystemLogs,
        KqlTable::KubeEvents,
        KqlTable::ContainerLogV2,
    ];

    /// The table name, as Log Analytics spells it.
    pub fn name(self) -> &'static str {
        match self {
            KqlTable::ContainerAppSystemLogsCl => "ContainerAppSystemLogs_CL",
            KqlTable::ContainerAppSystemLogs => "ContainerAppSystemLogs",
            KqlTable::KubeEvents => "KubeEvents",
            KqlTable::ContainerLogV2 => "ContainerLogV2",
        }
    }

    /// The column holding the log text.
    pub fn column(self) -> &'static str {
        match self {
            KqlTable::ContainerAppSystemLogsCl => "Log_s",
            KqlTable::ContainerAppSystemLogs => "Log",
            KqlTable::KubeEvents => "Message",
            KqlTable::ContainerLogV2 => "LogMessage",
        }
    }
}

impl FromStr for KqlTable {
    type Err = String;

    fn from_str(s: &str) -> Result<KqlTable, String> {
        KqlTable::ALL.into_iter().find(|t| t.name().eq_ignore_ascii_case(s)).ok_or_else(|| {
            let names: Vec<&str> = KqlTable::ALL.iter().map(|t| t.name()).collect();
            format!("unknown table {s:?} (use one of {})", names.join(", "))
        })
    }
}

/// Debug-level markers in raw text: logfmt `level=debug` (quoted or
/// escaped), JSON `"level":"debug"`, logrus `DEBU[0000]`, and the same
/// for trace. pullscan reads the level its parsers find (also from a
/// syslog priority or klog header); an engine sees only text.
pub const DEBUG: &str = r#"(?i)\blevel=\\*"?(?:debug|trace)\b|"level\\*"\s*:\s*\\*"(?:debug|trace)\b|\b(?:DEBU|TRAC)\["#;

/// The image of a message: the value after `image "…"`, `image=…`,
/// `pull access denied for …`, `failed to resolve reference …` or
/// `manifest for …`, in one capture group.
pub const IMAGE: &str = r#"(?i)(?:\bimage=\\*["']?|\bimage \\*["']|pull access denied for \\*["']?|failed to resolve reference \\*["']?|manifest for \\*["']?)(?P<image>[a-z0-9][^"'\\\s,]*)"#;

/// The cause id of lines with a pull word and an error word that no rule
/// claims.
pub const UNCLASSIFIED: &str = "unclassified";

/// Write the query that classifies log text into `set`'s causes in
/// `target`'s language, reading `table` (KQL only).
///
/// Fails, writing nothing, when a pattern uses a regex feature the target
/// cannot express: the error names the rule, the pattern and the feature.
pub fn export(set: &RuleSet, target: Target, table: KqlTable, out: &mut dyn Write) -> Result<()> {
    let plan = Plan::new(set, target.dialect())?;
    let text = match target {
        Target::Kql => kql(&plan, table),
        Target::Logql => logql(&plan),
        Target::Spl => spl(&plan),
    };
    out.write_all(text.as_bytes())?;
    Ok(())
}

// ------------------------------------------------------------ the plan

/// One rule, translated: what the first-match-wins construct tests.
struct Branch {
    rule: String,
    cause: String,
    priority: i32,
    patterns: Vec<String>,
    needs_pull_context: bool,
}

/// Everything a query needs, translated to one dialect.
struct Plan {
    /// Rules in winner order (priority desc, then load order).
    branches: Vec<Branch>,
    /// Success and benign cause ids (matched, then filtered out).
    not_reported: Vec<String>,
    /// Case-insensitive literals every classified line holds (the
    /// prefilter's), plus the pull words: a line without any cannot be
    /// reported.
    literals: Vec<String>,
    pull: String,
    error: String,
    pull_context: String,
    debug: String,
    image: String,
}

impl Plan {
    fn new(set: &RuleSet, dialect: Dialect) -> Result<Plan> {
        let mut order: Vec<(usize, &Rule)> = set.rules.iter().enumerate().collect();
        order.sort_by_key(|&(i, r)| (std::cmp::Reverse(r.priority), i));
        let mut branches = Vec::with_capacity(order.len());
        for (_, rule) in order {
            let mut patterns = Vec::with_capacity(rule.patterns.len());
            for p in &rule.patterns {
                let t = translate(p, dialect).map_err(|feature| {
                    anyhow!(
                        "rule {} ({}): pattern {p:?} cannot be exported to {}: {feature}",
                        rule.id,
                        rule.origin,
                        dialect.name()
                    )
                })?;
                patterns.push(t);
            }
            branches.push(Branch {
                rule: rule.id.clone(),
                cause: set.cause_of(rule).id.clone(),
                priority: rule.priority,
                patterns,
                needs_pull_context: rule.needs_pull_context,
            });
        }
        let mut not_reported: Vec<String> = set
            .causes
            .iter()
            .filter(|c| matches!(c.kind, CauseKind::Success | CauseKind::Benign))
            .map(|c| c.id.clone())
            .collect();
        not_reported.sort();
        let mut literals: Vec<String> = set.rules.iter().flat_map(|r| r.literals.clone()).collect();
        literals.extend(set.context.literals.iter().cloned());
        literals.sort();
        literals.dedup();
        // A literal that contains another is implied by it.
        let all = literals.clone();
        literals.retain(|l| !all.iter().any(|s| s != l && l.contains(s.as_str())));
        let builtin = |name: &str, re: &str| {
            translate(re, dialect).map_err(|f| anyhow!("internal regex {name} ({re:?}): {f}"))
        };
        Ok(Plan {
            branches,
            not_reported,
            literals,
            pull: builtin("the pull context", &set.context.pull_regex())?,
            error: builtin("ERROR", classify::ERROR)?,
            pull_context: builtin("the pull and topic context", &set.context.any_regex())?,
            debug: builtin("DEBUG", DEBUG)?,
            image: translate_capturing(IMAGE, dialect)
                .map_err(|f| anyhow!("internal regex IMAGE ({IMAGE:?}): {f}"))?,
        })
    }

    /// The prefilter as one case-insensitive regex (literals escaped).
    fn prefilter(&self) -> String {
        let alts: Vec<String> = self.literals.iter().map(|l| escape_literal(l)).collect();
        format!("(?i){}", alts.join("|"))
    }
}

/// The first line of every query: what made it and how it classifies.
fn header(comment: &str, target: Target, plan: &Plan, extra: &str) -> String {
    let mut s = String::new();
    let c = comment;
    let _ = writeln!(s, "{c} Generated by `pullscan rules export --to {}{extra}`", target.name());
    let _ = writeln!(
        s,
        "{c} (pullscan {}): {} rules, first match wins in pullscan's order",
        env!("CARGO_PKG_VERSION"),
        plan.branches.len()
    );
    let _ = writeln!(s, "{c} (priority, then load order). Success and look-alike causes are");
    let _ = writeln!(s, "{c} matched, then dropped; debug-level lines are never failures.");
    s
}

// ----------------------------------------------------------------- KQL

/// KQL: `case()` over `matches regex`, verbatim strings.
fn kql(plan: &Plan, table: KqlTable) -> String {
    let q = kql_string;
    let mut s = header("//", Target::Kql, plan, &format!(" --table {}", table.name()));
    let _ = writeln!(s, "{}", table.name());
    let _ = writeln!(s, "| extend msg = tostring({})", table.column());
    let _ = writeln!(s, "| where msg matches regex {}", q(&plan.prefilter()));
    for (re, with) in UNESCAPES {
        let _ = writeln!(s, "| extend msg = replace_regex(msg, {}, {})", q(re), q(with));
    }
    let _ = writeln!(s, "| extend pull_context = msg matches regex {}", q(&plan.pull_context));
    let _ = writeln!(s, "| extend debug = msg matches regex {}", q(&plan.debug));
    let _ = writeln!(s, "| extend verdict = case(");
    let _ = writeln!(s, "    debug, \"\",");
    for b in &plan.branches {
        let tests: Vec<String> =
            b.patterns.iter().map(|p| format!("msg matches regex {}", q(p))).collect();
        let mut test = tests.join(" or ");
        if tests.len() > 1 && b.needs_pull_context {
            test = format!("({test})");
        }
        if b.needs_pull_context {
            test.push_str(" and pull_context");
        }
        let _ = writeln!(s, "    // {} (priority {})", b.rule, b.priority);
        let _ = writeln!(s, "    {test}, {},", q(&format!("{} {}", b.cause, b.rule)));
    }
    let _ = writeln!(
        s,
        "    msg matches regex {} and msg matches regex {}, {},",
        q(&plan.pull),
        q(&plan.error),
        q(&format!("{UNCLASSIFIED} {UNCLASSIFIED}"))
    );
    let _ = writeln!(s, "    \"\")");
    let _ = writeln!(s, "| where isnotempty(verdict)");
    let _ = writeln!(
        s,
        "| extend cause = tostring(split(verdict, \" \")[0]), rule = tostring(split(verdict, \" \")[1])"
    );
    let causes: Vec<String> = plan.not_reported.iter().map(|c| q(c)).collect();
    let _ = writeln!(s, "| where cause !in ({})", causes.join(", "));
    let _ = writeln!(s, "| extend image = extract({}, 1, msg)", q(&plan.image));
    let _ = writeln!(
        s,
        "| summarize lines = count(), first_seen = min(TimeGenerated), \
         last_seen = max(TimeGenerated), rules = make_set(rule), sample = take_any(msg) \
         by cause, image"
    );
    let _ = writeln!(s, "| order by lines desc");
    s
}

/// A KQL verbatim string: `@"…"`, where only `"` needs escaping (doubled).
/// The translated regexes hold no line breaks (they are escaped).
fn kql_string(s: &str) -> String {
    format!("@\"{}\"", s.replace('"', "\"\""))
}

/// pullscan's unescaping, approximated with regex replacements (in this
/// order): any run of backslashes before `"` → `"`; `\u0027` → `'`;
/// escaped or real line breaks and tabs → one space. Regex text is
/// written for both dialects (RE2 and PCRE read it the same way).
const UNESCAPES: [(&str, &str); 3] =
    [(r#"\\+""#, "\""), (r"\\+u0027", "'"), (r"(?:\\+[nrt]|[\r\n\t])+", " ")];

// --------------------------------------------------------------- LogQL

/// LogQL: a metric query; a `label_format` template whose `if / else if`
/// chain (Loki's `count` template function runs a Go regexp) gives the
/// first matching rule's cause.
fn logql(plan: &Plan) -> String {
    let mut s = header("#", Target::Logql, plan, "");
    s.push_str("# Replace the stream selector with yours; rules are matched on the\n");
    s.push_str("# line after the unescaping line_format.\n");
    s.push_str("sum by (cause, image) (\n  count_over_time(\n");
    s.push_str("    {job=~\".+\"}\n");
    let _ = writeln!(s, "    |~ {}", logql_string(&plan.prefilter()));
    // regexReplaceAll REGEX SRC REPLACEMENT, nested: the first
    // replacement innermost.
    let mut line = "__line__".to_string();
    for (i, (re, with)) in UNESCAPES.iter().enumerate() {
        let call = format!("regexReplaceAll {} {line} {}", go_string(re), go_string(with));
        line = if i + 1 < UNESCAPES.len() { format!("({call})") } else { call };
    }
    let _ = writeln!(s, "    | line_format {}", logql_string(&format!("{{{{ {line} }}}}")));
    let mut t = String::new();
    let count = |re: &str| format!("(count {} __line__)", go_string(re));
    let _ = write!(t, "{{{{ $ctx := {} }}}}", count(&plan.pull_context));
    let _ = write!(t, "{{{{ if {} }}}}", count(&plan.debug));
    for b in &plan.branches {
        let tests: Vec<String> = b.patterns.iter().map(|p| count(p)).collect();
        let mut test =
            if tests.len() == 1 { tests[0].clone() } else { format!("(or {})", tests.join(" ")) };
        if b.needs_pull_context {
            test = format!("(and {test} $ctx)");
        }
        let test = test.strip_prefix('(').and_then(|t| t.strip_suffix(')')).unwrap_or(&test);
        let _ = write!(t, "{{{{ else if {test} }}}}{}", b.cause);
    }
    let _ = write!(
        t,
        "{{{{ else if and {} {} }}}}{UNCLASSIFIED}{{{{ end }}}}",
        count(&plan.pull),
        count(&plan.error)
    );
    let _ = writeln!(s, "    | label_format cause={}", logql_string(&t));
    let hidden: Vec<String> = plan.not_reported.iter().map(|c| escape_literal(c)).collect();
    let _ = writeln!(s, "    | cause != \"\" and cause !~ {}", logql_string(&hidden.join("|")));
    let _ = writeln!(s, "    | regexp {}", logql_string(&plan.image));
    s.push_str("  [1h])\n)\n");
    s
}

/// A LogQL string: a backtick raw string when the text holds no backtick,
/// else a double-quoted string with `\` and `"` escaped.
fn logql_string(s: &str) -> String {
    if s.contains('`') {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        format!("`{s}`")
    }
}

/// A Go template string literal (interpreted): `\` and `"` escaped. The
/// text holds no control characters (translated regexes escape them).
fn go_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ----------------------------------------------------------------- SPL

/// SPL: `eval case()` over `match()`; eval strings escape `\` and `"`.
fn spl(plan: &Plan) -> String {
    let q = spl_string;
    let mut s = header("```", Target::Spl, plan, "");
    // SPL comments are ``` … ``` blocks; the header's lines each open one.
    s = s.lines().map(|l| format!("{l} ```\n")).collect();
    s.push_str("``` Replace index=* with your indexes and sourcetypes. ```\n");
    s.push_str("index=*\n");
    let _ = writeln!(s, "| regex _raw={}", q(&plan.prefilter()));
    let mut msg = "_raw".to_string();
    for (re, with) in UNESCAPES {
        msg = format!("replace({msg}, {}, {})", q(re), q(with));
    }
    let _ = writeln!(s, "| eval msg={msg}");
    let _ = writeln!(s, "| eval pull_context=if(match(msg, {}), 1, 0)", q(&plan.pull_context));
    let _ = writeln!(s, "| eval debug=if(match(msg, {}), 1, 0)", q(&plan.debug));
    let _ = writeln!(s, "| eval verdict=case(");
    let _ = writeln!(s, "    debug==1, \"\",");
    for b in &plan.branches {
        let tests: Vec<String> =
            b.patterns.iter().map(|p| format!("match(msg, {})", q(p))).collect();
        let mut test = tests.join(" OR ");
        if tests.len() > 1 && b.needs_pull_context {
            test = format!("({test})");
        }
        if b.needs_pull_context {
            test.push_str(" AND pull_context==1");
        }
        let _ = writeln!(s, "    {test}, {},", q(&format!("{} {}", b.cause, b.rule)));
    }
    let _ = writeln!(
        s,
        "    match(msg, {}) AND match(msg, {}), {},",
        q(&plan.pull),
        q(&plan.error),
        q(&format!("{UNCLASSIFIED} {UNCLASSIFIED}"))
    );
    let _ = writeln!(s, "    true(), \"\")");
    let _ = writeln!(s, "| where verdict!=\"\"");
    let _ = writeln!(
        s,
        "| eval cause=mvindex(split(verdict, \" \"), 0), rule=mvindex(split(verdict, \" \"), 1)"
    );
    let causes: Vec<String> = plan.not_reported.iter().map(|c| q(c)).collect();
    let _ = writeln!(s, "| where NOT in(cause, {})", causes.join(", "));
    let whole = format!("(?s)^.*?{}.*$", plan.image.trim_start_matches("(?i)"));
    let _ = writeln!(
        s,
        "| eval image=if(match(msg, {}), replace(msg, {}, \"\\\\1\"), \"-\")",
        q(&plan.image),
        q(&format!("(?i){whole}"))
    );
    let _ = writeln!(
        s,
        "| stats count AS lines, earliest(_time) AS first_seen, latest(_time) AS last_seen, \
         values(rule) AS rules, first(msg) AS sample BY cause, image"
    );
    let _ = writeln!(s, "| sort - lines");
    s
}

/// An SPL eval string: `"…"` with `\` and `"` escaped (eval reads `\\`
/// as one backslash, so a regex `\d` is written `"\\d"`).
fn spl_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

// ---------------------------------------------------- regex translation

/// A regex dialect a target speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dialect {
    /// RE2: Kusto and Go (Loki).
    Re2,
    /// PCRE: Splunk.
    Pcre,
}

impl Dialect {
    fn name(self) -> &'static str {
        match self {
            Dialect::Re2 => "RE2 (KQL, LogQL)",
            Dialect::Pcre => "PCRE (SPL)",
        }
    }

    /// The largest repetition count the dialect accepts.
    fn max_count(self) -> u32 {
        match self {
            Dialect::Re2 => 1000,
            Dialect::Pcre => 65535,
        }
    }
}

/// Flags in force at a point of the pattern, and whether capture groups
/// are kept.
#[derive(Clone, Copy, Debug, Default)]
struct Flags {
    multi_line: bool,
    swap_greed: bool,
    captures: bool,
}

/// One Rust-regex pattern in `target`'s regex dialect (before the query
/// language's quoting), or the feature the dialect cannot express.
pub fn translate_pattern(pattern: &str, target: Target) -> Result<String, String> {
    translate(pattern, target.dialect())
}

/// Translate one Rust-regex pattern to `dialect`, or say which feature it
/// cannot express. Capture groups become non-capturing: rules only match.
fn translate(pattern: &str, dialect: Dialect) -> Result<String, String> {
    translate_with(pattern, dialect, Flags::default())
}

/// [`translate`], keeping capture groups (`(?P<name>…)` is written the
/// same in RE2 and PCRE) for the extraction regexes.
fn translate_capturing(pattern: &str, dialect: Dialect) -> Result<String, String> {
    translate_with(pattern, dialect, Flags { captures: true, ..Flags::default() })
}

fn translate_with(pattern: &str, dialect: Dialect, mut flags: Flags) -> Result<String, String> {
    let ast =
        ast::parse::Parser::new().parse(pattern).map_err(|e| format!("invalid regex: {e}"))?;
    let mut out = String::with_capacity(pattern.len() + 8);
    emit(&ast, dialect, &mut flags, &mut out)?;
    Ok(out)
}

fn emit(ast: &Ast, d: Dialect, flags: &mut Flags, out: &mut String) -> Result<(), String> {
    match ast {
        Ast::Empty(_) => {}
        Ast::Flags(set) => {
            let f = emit_flags(&set.flags, flags)?;
            if !f.is_empty() {
                let _ = write!(out, "(?{f})");
            }
        }
        Ast::Literal(lit) => emit_char(lit.c, d, false, out)?,
        Ast::Dot(_) => out.push('.'),
        Ast::Assertion(a) => emit_assertion(a, d, flags, out)?,
        Ast::ClassUnicode(_) => return Err(unicode_class()),
        Ast::ClassPerl(c) => emit_perl(c, out),
        Ast::ClassBracketed(c) => emit_bracketed(c, d, out)?,
        Ast::Repetition(rep) => emit_repetition(rep, d, flags, out)?,
        Ast::Group(g) => {
            let mut inner = *flags;
            match &g.kind {
                ast::GroupKind::NonCapturing(f) => {
                    let f = emit_flags(f, &mut inner)?;
                    let _ = write!(out, "(?{f}:");
                }
                ast::GroupKind::CaptureName { name, .. } if flags.captures => {
                    let _ = write!(out, "(?P<{}>", name.name);
                }
                ast::GroupKind::CaptureIndex(_) if flags.captures => out.push('('),
                // Rules only match: their captures would only cost.
                _ => out.push_str("(?:"),
            }
            emit(&g.ast, d, &mut inner, out)?;
            out.push(')');
        }
        Ast::Alternation(alt) => {
            // Flags set in one branch stay set in the next ones, in Rust,
            // RE2 and PCRE alike: one state for the whole alternation.
            for (i, a) in alt.asts.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                emit(a, d, flags, out)?;
            }
        }
        Ast::Concat(c) => {
            for a in &c.asts {
                emit(a, d, flags, out)?;
            }
        }
    }
    Ok(())
}

fn unicode_class() -> String {
    "Unicode classes (\\p{…}, \\P{…}) are not exported: their property names and \
     versions differ between engines"
        .into()
}

/// The flags a dialect is given for a flag group, updating `state`: `i`,
/// `m`, `s` pass through (same meaning in RE2 and PCRE); `x` is dropped
/// (the parser already removed its whitespace and comments); `U` is
/// applied to each repetition instead; `u` may only be set (it is the
/// default); `R` is refused.
fn emit_flags(f: &ast::Flags, state: &mut Flags) -> Result<String, String> {
    let (mut on, mut off) = (String::new(), String::new());
    let mut negated = false;
    for item in &f.items {
        let flag = match &item.kind {
            ast::FlagsItemKind::Negation => {
                negated = true;
                continue;
            }
            ast::FlagsItemKind::Flag(flag) => *flag,
        };
        let side = if negated { &mut off } else { &mut on };
        match flag {
            ast::Flag::CaseInsensitive => side.push('i'),
            ast::Flag::MultiLine => {
                side.push('m');
                state.multi_line = !negated;
            }
            ast::Flag::DotMatchesNewLine => side.push('s'),
            ast::Flag::SwapGreed => state.swap_greed = !negated,
            ast::Flag::IgnoreWhitespace => {}
            ast::Flag::Unicode if !negated => {}
            ast::Flag::Unicode => {
                return Err("the flag (?-u) (Unicode off: bytes instead of characters) \
                            has no equivalent"
                    .into())
            }
            ast::Flag::CRLF if negated => {}
            ast::Flag::CRLF => {
                return Err("the CRLF flag (?R) has no equivalent".into());
            }
        }
    }
    if !off.is_empty() {
        on.push('-');
        on.push_str(&off);
    }
    Ok(on)
}

fn emit_assertion(
    a: &ast::Assertion,
    d: Dialect,
    flags: &Flags,
    out: &mut String,
) -> Result<(), String> {
    use ast::AssertionKind as K;
    match a.kind {
        K::StartLine => out.push('^'),
        // Without (?m), Rust's `$` is the end of the text; PCRE's also
        // matches before a final newline, so it gets `\z`.
        K::EndLine if !flags.multi_line && d == Dialect::Pcre => out.push_str("\\z"),
        K::EndLine => out.push('$'),
        K::StartText => out.push_str("\\A"),
        K::EndText => out.push_str("\\z"),
        K::WordBoundary => out.push_str("\\b"),
        K::NotWordBoundary => out.push_str("\\B"),
        _ => {
            return Err("the word-boundary assertions \\b{start}, \\b{end}, \\<, \\> and \
                        \\b{start-half}/\\b{end-half} have no equivalent"
                .into())
        }
    }
    Ok(())
}

fn emit_perl(c: &ast::ClassPerl, out: &mut String) {
    let letter = match c.kind {
        ast::ClassPerlKind::Digit => 'd',
        ast::ClassPerlKind::Space => 's',
        ast::ClassPerlKind::Word => 'w',
    };
    out.push('\\');
    out.push(if c.negated { letter.to_ascii_uppercase() } else { letter });
}

fn emit_repetition(
    rep: &ast::Repetition,
    d: Dialect,
    flags: &mut Flags,
    out: &mut String,
) -> Result<(), String> {
    use ast::{RepetitionKind as K, RepetitionRange as R};
    let max = d.max_count();
    let too_big = |n: u32| {
        (n > max).then(|| {
            format!("the repetition count {n} is above the {max} that {} accepts", d.name())
        })
    };
    // A repeated repetition (`a{2}{3}`) needs a group in RE2 and PCRE.
    let nested = matches!(*rep.ast, Ast::Repetition(_));
    if nested {
        out.push_str("(?:");
    }
    emit(&rep.ast, d, flags, out)?;
    if nested {
        out.push(')');
    }
    match &rep.op.kind {
        K::ZeroOrOne => out.push('?'),
        K::ZeroOrMore => out.push('*'),
        K::OneOrMore => out.push('+'),
        K::Range(R::Exactly(n)) => {
            if let Some(e) = too_big(*n) {
                return Err(e);
            }
            let _ = write!(out, "{{{n}}}");
        }
        K::Range(R::AtLeast(n)) => {
            if let Some(e) = too_big(*n) {
                return Err(e);
            }
            let _ = write!(out, "{{{n},}}");
        }
        K::Range(R::Bounded(n, m)) => {
            if let Some(e) = too_big(*m) {
                return Err(e);
            }
            let _ = write!(out, "{{{n},{m}}}");
        }
    }
    // `(?U)` swaps what `?` means after a repetition; the target is given
    // the greediness itself. (It cannot change whether a line matches.)
    if rep.greedy == flags.swap_greed {
        out.push('?');
    }
    Ok(())
}

fn emit_bracketed(c: &ast::ClassBracketed, d: Dialect, out: &mut String) -> Result<(), String> {
    out.push('[');
    if c.negated {
        out.push('^');
    }
    let start = out.len();
    emit_class_set(&c.kind, d, out)?;
    if out.len() == start {
        return Err("an empty class has no equivalent".into());
    }
    out.push(']');
    Ok(())
}

fn emit_class_set(set: &ast::ClassSet, d: Dialect, out: &mut String) -> Result<(), String> {
    match set {
        ast::ClassSet::Item(item) => emit_class_item(item, d, out),
        ast::ClassSet::BinaryOp(op) => {
            let name = match op.kind {
                ast::ClassSetBinaryOpKind::Intersection => "intersection (&&)",
                ast::ClassSetBinaryOpKind::Difference => "difference (--)",
                ast::ClassSetBinaryOpKind::SymmetricDifference => "symmetric difference (~~)",
            };
            Err(format!("class set operations such as {name} have no equivalent"))
        }
    }
}

fn emit_class_item(item: &ast::ClassSetItem, d: Dialect, out: &mut String) -> Result<(), String> {
    use ast::ClassSetItem as I;
    match item {
        I::Empty(_) => {}
        I::Literal(lit) => emit_char(lit.c, d, true, out)?,
        I::Range(r) => {
            emit_char(r.start.c, d, true, out)?;
            out.push('-');
            emit_char(r.end.c, d, true, out)?;
        }
        I::Ascii(a) => {
            let _ = write!(out, "[:{}{}:]", if a.negated { "^" } else { "" }, ascii_name(&a.kind));
        }
        I::Unicode(_) => return Err(unicode_class()),
        I::Perl(p) => emit_perl(p, out),
        // `[a[bc]]` is a union: its items join the outer class. A negated
        // nested class would need set difference.
        I::Bracketed(b) if !b.negated => emit_class_set(&b.kind, d, out)?,
        I::Bracketed(_) => {
            return Err("a negated class nested in a class ([a[^b]]) has no equivalent".into())
        }
        I::Union(u) => {
            for i in &u.items {
                emit_class_item(i, d, out)?;
            }
        }
    }
    Ok(())
}

fn ascii_name(kind: &ast::ClassAsciiKind) -> &'static str {
    use ast::ClassAsciiKind as K;
    match kind {
        K::Alnum => "alnum",
        K::Alpha => "alpha",
        K::Ascii => "ascii",
        K::Blank => "blank",
        K::Cntrl => "cntrl",
        K::Digit => "digit",
        K::Graph => "graph",
        K::Lower => "lower",
        K::Print => "print",
        K::Punct => "punct",
        K::Space => "space",
        K::Upper => "upper",
        K::Word => "word",
        K::Xdigit => "xdigit",
    }
}

/// One literal character: meta characters escaped, control characters as
/// `\xHH` (PCRE's `\v` is a class, not VT, so no letter escapes), other
/// ASCII as is; non-ASCII as is for RE2, refused for PCRE.
fn emit_char(c: char, d: Dialect, in_class: bool, out: &mut String) -> Result<(), String> {
    if !c.is_ascii() {
        if d == Dialect::Pcre {
            return Err(format!(
                "the non-ASCII character {c:?}: Splunk's PCRE may match bytes, not characters"
            ));
        }
        out.push(c);
        return Ok(());
    }
    let meta: &[char] = if in_class {
        &['\\', ']', '[', '^', '-', '&', '~']
    } else {
        &['\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$']
    };
    if c.is_ascii_control() {
        let _ = write!(out, "\\x{:02X}", c as u32);
    } else {
        if meta.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    Ok(())
}

/// A literal string as a regex (for the prefilter alternation).
fn escape_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        // Escaping is the same in both dialects; non-ASCII (never in the
        // builtin literals) is kept as is.
        let _ = emit_char(c, Dialect::Re2, false, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re2(p: &str) -> Result<String, String> {
        translate(p, Dialect::Re2)
    }

    fn pcre(p: &str) -> Result<String, String> {
        translate(p, Dialect::Pcre)
    }

    #[test]
    fn plain_patterns_survive() {
        let table = [
            (r"(?i)\bno such host\b", r"(?i)\bno such host\b", r"(?i)\bno such host\b"),
            (r"manifest (unknown|not found)", "manifest (?:unknown|not found)", ""),
            (r"(?P<x>a+?)\.b", r"(?:a+?)\.b", ""),
            (r"x509: .{0,200}?expired$", r"x509: .{0,200}?expired$", r"x509: .{0,200}?expired\z"),
            (r"(?m)end$", r"(?m)end$", r"(?m)end$"),
            (r"(?x) a b  # comment", "ab", "ab"),
            (r"(?U)a+b*?", "a+?b*", "a+?b*"),
            (r"(?i-s:A.)", "(?i-s:A.)", ""),
            (r"[a-z0-9._\-\]]+", r"[a-z0-9._\-\]]+", ""),
            (r"[[:alpha:][:^digit:]\d]", r"[[:alpha:][:^digit:]\d]", ""),
            (r"[a[bc]]", "[abc]", ""),
            (r"\x41\t\x{7f}\n", "A\\x09\\x7F\\x0A", ""),
            (r"\Afoo\z\B", r"\Afoo\z\B", ""),
            ("a{2}{3}", "(?:a{2}){3}", ""),
            ("a|", "a|", ""),
            ("(?u)x", "x", ""),
        ];
        for (p, want_re2, want_pcre) in table {
            assert_eq!(re2(p).unwrap(), want_re2, "{p}");
            let want_pcre = if want_pcre.is_empty() { want_re2 } else { want_pcre };
            assert_eq!(pcre(p).unwrap(), want_pcre, "{p}");
        }
    }

    #[test]
    fn features_without_an_equivalent_are_refused() {
        let table = [
            (r"\pL+", "Unicode classes"),
            (r"[\p{Greek}a]", "Unicode classes"),
            (r"[a-z&&[^x]]", "intersection"),
            (r"[a-z--x]", "difference"),
            (r"[a-z~~x]", "symmetric difference"),
            (r"[a[^b]]", "negated class nested"),
            (r"\b{start}x", "word-boundary"),
            (r"\<x\>", "word-boundary"),
            (r"(?-u:\w)", "(?-u)"),
            (r"(?R)a$", "CRLF"),
            ("a{1001}", "repetition count 1001"),
            ("(", "invalid regex"),
        ];
        for (p, feature) in table {
            let e = re2(p).unwrap_err();
            assert!(e.contains(feature), "{p}: {e}");
        }
        // PCRE accepts larger counts and refuses non-ASCII characters.
        assert_eq!(pcre("a{1001}").unwrap(), "a{1001}");
        assert!(pcre("a{65536}").unwrap_err().contains("65535"));
        assert_eq!(re2("café").unwrap(), "café");
        assert!(pcre("café").unwrap_err().contains("non-ASCII"));
    }

    #[test]
    fn refusal_names_rule_pattern_and_feature() {
        let mut set = RuleSet::default();
        let rules = r#"
[[causes]]
id = "x.y"
title = "x"
remediation.general = "fix it"

[[rules]]
id = "x.y.unicode"
cause = "x.y"
title = "x"
patterns = ['''\bcafé\b''']
"#;
        set.add_source("test.toml", rules).unwrap();
        let mut out = Vec::new();
        assert!(export(&set, Target::Kql, KqlTable::KubeEvents, &mut out).is_ok());
        out.clear();
        let e = export(&set, Target::Spl, KqlTable::KubeEvents, &mut out).unwrap_err();
        let e = format!("{e:#}");
        assert!(e.contains("x.y.unicode") && e.contains("café") && e.contains("non-ASCII"), "{e}");
        assert!(out.is_empty(), "nothing is written on a refusal");
    }

    #[test]
    fn strings_are_quoted_for_each_language() {
        assert_eq!(kql_string(r#"a"b\c`"#), r#"@"a""b\c`""#);
        assert_eq!(spl_string(r#"a"b\c`"#), r#""a\"b\\c`""#);
        assert_eq!(logql_string(r#"a"b\c"#), r#"`a"b\c`"#);
        assert_eq!(logql_string(r#"a`"b\c"#), r#""a`\"b\\c""#);
        assert_eq!(go_string(r#"a"b\c`"#), r#""a\"b\\c`""#);
    }

    #[test]
    fn literal_escaping() {
        assert_eq!(escape_literal("registry-1.docker.io"), r"registry-1\.docker\.io");
        assert_eq!(escape_literal("a(b)|c$"), r"a\(b\)\|c\$");
    }

    /// Every builtin pattern translates, and each translation matches
    /// exactly the examples and counterexamples the original matches (run
    /// by the Rust engine: this checks the translation's structure; the
    /// ASCII-versus-Unicode difference is documented, not tested).
    #[test]
    fn builtin_translations_agree_with_the_originals() {
        let set = crate::rules::builtin().unwrap();
        let mut checked = 0;
        for rule in &set.rules {
            let lines: Vec<&String> = rule.examples.iter().chain(&rule.counterexamples).collect();
            for p in &rule.patterns {
                let original = regex::Regex::new(p).unwrap();
                for d in [Dialect::Re2, Dialect::Pcre] {
                    let t = translate(p, d).unwrap_or_else(|e| panic!("{}: {p}: {e}", rule.id));
                    let translated = regex::Regex::new(&t).unwrap_or_else(|e| panic!("{t}: {e}"));
                    for l in &lines {
                        let want = original.is_match(l);
                        assert_eq!(translated.is_match(l), want, "{} {d:?} {t} on {l}", rule.id);
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 500, "{checked}");
    }

    #[test]
    fn image_regex_finds_common_anchors() {
        let re = regex::Regex::new(IMAGE).unwrap();
        let table = [
            (
                r#"Failed to pull image "docker.io/library/nginx:1.25": rpc error"#,
                "docker.io/library/nginx:1.25",
            ),
            (r#"msg="x" image=\"ghcr.io/a/b:1\" err"#, "ghcr.io/a/b:1"),
            ("pull access denied for minio, repository does not exist", "minio"),
            ("manifest for registry:2222 not found", "registry:2222"),
            ("PullImage from image service failed", ""),
        ];
        for (line, want) in table {
            let got = re.captures(line).map_or("", |c| c.get(1).map_or("", |m| m.as_str()));
            assert_eq!(got, want, "{line}");
        }
    }

    #[test]
    fn debug_regex_finds_levels() {
        let re = regex::Regex::new(DEBUG).unwrap();
        for l in [
            r#"time="x" level=debug msg="fetch""#,
            r#"{"level":"DEBUG","msg":"x"}"#,
            r#"{\"level\":\"debug\"}"#,
            "DEBU[0000] PullImageResponse",
        ] {
            assert!(re.is_match(l), "{l}");
        }
        for l in [r#"level=error msg="debug endpoint""#, "debugging the pull"] {
            assert!(!re.is_match(l), "{l}");
        }
    }

    #[test]
    fn winner_order_is_priority_then_load_order() {
        let set = crate::rules::builtin().unwrap();
        let plan = Plan::new(&set, Dialect::Re2).unwrap();
        for w in plan.branches.windows(2) {
            assert!(w[0].priority >= w[1].priority);
            if w[0].priority == w[1].priority {
                let at = |id: &str| set.rules.iter().position(|r| r.id == id);
                assert!(at(&w[0].rule) < at(&w[1].rule));
            }
        }
        assert!(plan.not_reported.iter().any(|c| c.starts_with("ok.")));
    }
}
