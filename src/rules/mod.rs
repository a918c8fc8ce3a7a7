//! The rule table: causes and the rules that recognise them.
//!
//! Rule files (`rules/*.toml`, compiled into the binary, plus `--rules DIR`)
//! are read into `…Syntax` structs that reject unknown fields, then compiled
//! into a validated [`RuleSet`]: every pattern compiled, every rule pointing
//! at a defined cause, ids unique, and every pattern carrying a literal the
//! prefilter can look for. Any problem is a [`RuleError`] naming the file,
//! the rule and the pattern. This module knows nothing of log formats: a rule
//! sees only the message text of a record.

mod check;
mod load;

use std::fmt;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde::Deserialize;

pub use check::{check, Problem};
pub use load::{builtin, load_dir, BUILTIN_FILES};

/// What a cause says about a pull.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CauseKind {
    /// A pull or push failed.
    Failure,
    /// A pull succeeded (counted for the failure ratio).
    Success,
    /// The line looks like a failure but is normal (a look-alike).
    Benign,
}

/// The remediation text of a cause or rule: general steps plus the exact
/// steps per registry kind. Keys are registry kind names (`acr`, `ecr`, ...).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Remediation {
    /// Steps that apply whatever the registry.
    pub general: Option<String>,
    /// Azure Container Registry.
    pub acr: Option<String>,
    /// Amazon ECR.
    pub ecr: Option<String>,
    /// Google Container Registry.
    pub gcr: Option<String>,
    /// Google Artifact Registry (falls back to `gcr`).
    pub gar: Option<String>,
    /// Docker Hub.
    pub dockerhub: Option<String>,
    /// GitHub Container Registry.
    pub ghcr: Option<String>,
    /// Quay.
    pub quay: Option<String>,
    /// Microsoft Container Registry.
    pub mcr: Option<String>,
    /// Any other (self-hosted) registry.
    pub private: Option<String>,
}

impl Remediation {
    /// The registry-specific steps for a registry kind name, if any.
    pub fn for_kind(&self, kind: &str) -> Option<&str> {
        let v = match kind {
            "acr" => &self.acr,
            "ecr" => &self.ecr,
            "gcr" => &self.gcr,
            "gar" => return self.gar.as_deref().or(self.gcr.as_deref()),
            "dockerhub" => &self.dockerhub,
            "ghcr" => &self.ghcr,
            "quay" => &self.quay,
            "mcr" => &self.mcr,
            "private" => &self.private,
            _ => return None,
        };
        v.as_deref()
    }

    /// `self` with every field that `over` sets replaced by `over`'s.
    fn overlaid(&self, over: &Remediation) -> Remediation {
        let pick = |a: &Option<String>, b: &Option<String>| b.clone().or_else(|| a.clone());
        Remediation {
            general: pick(&self.general, &over.general),
            acr: pick(&self.acr, &over.acr),
            ecr: pick(&self.ecr, &over.ecr),
            gcr: pick(&self.gcr, &over.gcr),
            gar: pick(&self.gar, &over.gar),
            dockerhub: pick(&self.dockerhub, &over.dockerhub),
            ghcr: pick(&self.ghcr, &over.ghcr),
            quay: pick(&self.quay, &over.quay),
            mcr: pick(&self.mcr, &over.mcr),
            private: pick(&self.private, &over.private),
        }
    }
}

/// One rule file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFileSyntax {
    #[serde(default)]
    causes: Vec<CauseSyntax>,
    #[serde(default)]
    rules: Vec<RuleSyntax>,
    #[serde(default)]
    context: Option<ContextSyntax>,
}

/// A `[context]` table as written: the pull-context vocabulary.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContextSyntax {
    #[serde(default)]
    pull: Vec<String>,
    #[serde(default)]
    topic: Vec<String>,
    #[serde(default)]
    ends: Vec<String>,
}

/// A `[[causes]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CauseSyntax {
    id: String,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default = "default_kind")]
    kind: CauseKind,
    #[serde(default)]
    remediation: Remediation,
    #[serde(default)]
    references: Vec<String>,
}

fn default_kind() -> CauseKind {
    CauseKind::Failure
}

/// A `[[rules]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSyntax {
    id: String,
    cause: String,
    title: String,
    patterns: Vec<String>,
    #[serde(default = "default_priority")]
    priority: i32,
    /// Generic wording (`i/o timeout`, `x509:`) that other programs log
    /// too: only a failure when the line is about a pull (see
    /// `Classifier::has_pull_context`).
    #[serde(default)]
    needs_pull_context: bool,
    /// Literals for the prefilter when they cannot be derived from the
    /// patterns (each must occur, case-insensitively, in every match).
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    remediation: Remediation,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    examples: Vec<String>,
    #[serde(default)]
    counterexamples: Vec<String>,
}

/// The priority of a rule that states none.
pub const DEFAULT_PRIORITY: i32 = 50;

fn default_priority() -> i32 {
    DEFAULT_PRIORITY
}

/// A cause: a stable public id and what to do about it.
#[derive(Clone, Debug)]
pub struct Cause {
    /// Stable public id (`auth.unauthorized`).
    pub id: String,
    /// Short title for tables.
    pub title: String,
    /// What it means.
    pub description: String,
    /// Failure, success or benign look-alike.
    pub kind: CauseKind,
    /// What to do.
    pub remediation: Remediation,
    /// Documentation links.
    pub references: Vec<String>,
    /// The file that defined it.
    pub origin: String,
}

impl Cause {
    /// Whether the cause only says a pull failed (`symptom.*`): its lines
    /// are attributed to the root cause seen for the same image.
    pub fn is_symptom(&self) -> bool {
        self.id.starts_with("symptom.")
    }
}

/// A compiled rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Stable public id.
    pub id: String,
    /// Index of its cause in [`RuleSet::causes`].
    pub cause: usize,
    /// Short title.
    pub title: String,
    /// The patterns as written (for messages and export).
    pub patterns: Vec<String>,
    /// The compiled patterns, in the same order; compiled on first use for
    /// the builtin table (its patterns are checked by the tests), at load
    /// for users' files (so a bad pattern is an error at once).
    regexes: OnceLock<Vec<Pattern>>,
    /// Higher wins when several rules match one line.
    pub priority: i32,
    /// Only matches lines that are about a pull (generic wording).
    pub needs_pull_context: bool,
    /// The prefilter literals (lowercase); every match contains one of them.
    pub literals: Vec<String>,
    /// The cause's remediation with this rule's overrides applied.
    pub remediation: Remediation,
    /// Documentation links (the rule's, then the cause's).
    pub references: Vec<String>,
    /// Lines this rule must match (and win).
    pub examples: Vec<String>,
    /// Lines this rule must not match.
    pub counterexamples: Vec<String>,
    /// The file that defined it.
    pub origin: String,
}

impl Rule {
    /// The compiled patterns (compiling them on first use). A builtin
    /// pattern that did not compile would match nothing; the tests compile
    /// every one (`compile_patterns`).
    pub fn regexes(&self) -> &[Pattern] {
        self.regexes.get_or_init(|| compile_patterns(&self.patterns).unwrap_or_default())
    }

    /// Whether any pattern of this rule matches the text.
    pub fn is_match(&self, text: &[u8]) -> bool {
        self.regexes().iter().any(|r| r.is_match(text))
    }
}

/// The pull-context vocabulary (`[context]` tables): what makes a line
/// about an image pull or push. One definition serves the prefilter, the
/// `unclassified` fallback and `needs_pull_context` alike, so a new
/// client's wrappers are a rules change, not a code change.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// Patterns that say a pull or push happened, in any client's words
    /// (`pull`, `PullImage`, `initializing source`, `reading manifest`,
    /// `fetching blob`, a `/v2/` URL). Their literals are prefilter words;
    /// a line with one and an error word that no rule names is
    /// `unclassified`.
    pub pull: Vec<String>,
    /// Patterns that only put generic wording (`i/o timeout`, `x509:`) in
    /// a pull's context (`image`, `layer`, a registry host): too common in
    /// other programs' logs to make a line a pull failure on their own.
    pub topic: Vec<String>,
    /// Patterns that say a pull or push is over and failed (`Error pulling
    /// image`, `Not continuing with pull`): a debug-level line that matches
    /// one still reports the failure (CRI-O logs a pull's final error at
    /// debug level), where other debug lines are chatter.
    pub ends: Vec<String>,
    /// The literals of `pull` (lowercase), for the prefilter.
    pub literals: Vec<String>,
    /// `pull` compiled as one alternation.
    pull_re: OnceLock<Option<regex::bytes::Regex>>,
    /// `pull` and `topic` compiled as one alternation.
    any_re: OnceLock<Option<regex::bytes::Regex>>,
    /// `ends` compiled as one alternation.
    ends_re: OnceLock<Option<regex::bytes::Regex>>,
}

impl Context {
    /// One regex matching any of `patterns` (each in its own group, so
    /// their flags stay their own).
    pub fn alternation(patterns: &[String]) -> String {
        patterns.iter().map(|p| format!("(?:{p})")).collect::<Vec<_>>().join("|")
    }

    /// The text of the regex for `pull`.
    pub fn pull_regex(&self) -> String {
        Self::alternation(&self.pull)
    }

    /// The text of the regex for `pull` and `topic` together.
    pub fn any_regex(&self) -> String {
        let all: Vec<String> = self.pull.iter().chain(&self.topic).cloned().collect();
        Self::alternation(&all)
    }

    fn compiled(
        cell: &OnceLock<Option<regex::bytes::Regex>>,
        text: impl FnOnce() -> String,
    ) -> Option<&regex::bytes::Regex> {
        cell.get_or_init(|| {
            regex::bytes::RegexBuilder::new(&text()).size_limit(1 << 24).build().ok()
        })
        .as_ref()
    }

    /// Whether a message says a pull or push happened.
    pub fn is_pull(&self, text: &[u8]) -> bool {
        Self::compiled(&self.pull_re, || self.pull_regex()).is_some_and(|r| r.is_match(text))
    }

    /// Whether a message is about a pull or push, so that generic wording
    /// counts.
    pub fn is_about_pull(&self, text: &[u8]) -> bool {
        Self::compiled(&self.any_re, || self.any_regex()).is_some_and(|r| r.is_match(text))
    }

    /// Whether a message says the pull or push ended in failure.
    pub fn is_end(&self, text: &[u8]) -> bool {
        Self::compiled(&self.ends_re, || Self::alternation(&self.ends))
            .is_some_and(|r| r.is_match(text))
    }

    /// Build the regexes now (they are otherwise built on first use).
    pub fn warm_up(&self) {
        let _ = Self::compiled(&self.pull_re, || self.pull_regex());
        let _ = Self::compiled(&self.any_re, || self.any_regex());
        let _ = Self::compiled(&self.ends_re, || Self::alternation(&self.ends));
    }
}

/// The compiled rule table: causes, then rules in load order.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    /// Every defined cause.
    pub causes: Vec<Cause>,
    /// Every rule, in load order (builtin files sorted by name, then user files).
    pub rules: Vec<Rule>,
    /// The pull-context vocabulary of every file.
    pub context: Context,
}

impl RuleSet {
    /// The cause of a rule.
    pub fn cause_of(&self, rule: &Rule) -> &Cause {
        &self.causes[rule.cause]
    }

    /// Look a cause up by id.
    pub fn cause(&self, id: &str) -> Option<&Cause> {
        self.causes.iter().find(|c| c.id == id)
    }

    /// Look a rule up by id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Add the causes and rules of one file's text. `origin` names the file
    /// in errors. Rules may point at causes defined in this file or in any
    /// added before.
    pub fn add_source(&mut self, origin: &str, text: &str) -> Result<(), RuleError> {
        self.add_causes(origin, text)?;
        self.add_rules(origin, text)?;
        let context = parse_file(origin, text)?.context;
        self.add_context(origin, context, true)
    }

    /// Add a file's `[context]` patterns: each must compile and carry a
    /// prefilter literal (checked now for users' files, by the tests for
    /// the builtin table).
    fn add_context(
        &mut self,
        origin: &str,
        context: Option<ContextSyntax>,
        eager: bool,
    ) -> Result<(), RuleError> {
        let Some(c) = context else { return Ok(()) };
        let err = |pattern: &str, message: String| RuleError {
            file: origin.into(),
            rule: Some("context".into()),
            pattern: Some(pattern.into()),
            message,
        };
        for p in c.pull.iter().chain(&c.topic).chain(&c.ends) {
            if eager {
                compile_patterns(std::slice::from_ref(p)).map_err(|(p, m)| err(&p, m))?;
            }
        }
        for p in &c.pull {
            let lits = crate::prefilter::literals_of(p).map_err(|m| err(p, m))?;
            self.context.literals.extend(lits);
        }
        self.context.literals.sort();
        self.context.literals.dedup();
        self.context.pull.extend(c.pull);
        self.context.topic.extend(c.topic);
        self.context.ends.extend(c.ends);
        self.context.pull_re = OnceLock::new();
        self.context.any_re = OnceLock::new();
        self.context.ends_re = OnceLock::new();
        Ok(())
    }

    /// Add only the `[[causes]]` of one file's text.
    pub fn add_causes(&mut self, origin: &str, text: &str) -> Result<(), RuleError> {
        self.add_parsed_causes(origin, parse_file(origin, text)?.causes)
    }

    fn add_parsed_causes(
        &mut self,
        origin: &str,
        causes: Vec<CauseSyntax>,
    ) -> Result<(), RuleError> {
        let err = |id: &str, message: String| RuleError {
            file: origin.into(),
            rule: Some(id.into()),
            pattern: None,
            message,
        };
        for c in causes {
            if let Some(prev) = self.cause(&c.id) {
                let m = format!("duplicate cause id (first defined in {})", prev.origin);
                return Err(err(&c.id, m));
            }
            if c.kind == CauseKind::Failure && c.remediation.general.is_none() {
                return Err(err(&c.id, "cause has no remediation.general".into()));
            }
            ensure_id(&c.id).map_err(|m| err(&c.id, m))?;
            self.causes.push(Cause {
                id: c.id,
                title: c.title,
                description: c.description,
                kind: c.kind,
                remediation: c.remediation,
                references: c.references,
                origin: origin.into(),
            });
        }
        Ok(())
    }

    /// Add only the `[[rules]]` of one file's text; their causes must exist.
    /// Patterns are compiled now, so a bad one is an error now.
    pub fn add_rules(&mut self, origin: &str, text: &str) -> Result<(), RuleError> {
        self.add_rules_compiled(origin, text, true)
    }

    /// Add rules, compiling their patterns now (`eager`) or on first use
    /// (the builtin table: most rules never meet a line that holds their
    /// literals, and compiling all of them took most of the 100 ms a run on
    /// a small log used to take).
    pub(crate) fn add_rules_compiled(
        &mut self,
        origin: &str,
        text: &str,
        eager: bool,
    ) -> Result<(), RuleError> {
        self.add_parsed_rules(origin, parse_file(origin, text)?.rules, eager)
    }

    fn add_parsed_rules(
        &mut self,
        origin: &str,
        rules: Vec<RuleSyntax>,
        eager: bool,
    ) -> Result<(), RuleError> {
        for r in rules {
            let rule = self.compile_rule(origin, r, eager)?;
            self.rules.push(rule);
        }
        Ok(())
    }

    fn compile_rule(&self, origin: &str, r: RuleSyntax, eager: bool) -> Result<Rule, RuleError> {
        let err = |pattern: Option<&str>, message: String| RuleError {
            file: origin.into(),
            rule: Some(r.id.clone()),
            pattern: pattern.map(Into::into),
            message,
        };
        ensure_id(&r.id).map_err(|m| err(None, m))?;
        if let Some(prev) = self.rule(&r.id) {
            return Err(err(None, format!("duplicate rule id (first defined in {})", prev.origin)));
        }
        let cause = self.causes.iter().position(|c| c.id == r.cause).ok_or_else(|| {
            err(None, format!("unknown cause {:?} (define it in a [[causes]] table)", r.cause))
        })?;
        if r.patterns.is_empty() {
            return Err(err(None, "rule has no patterns".into()));
        }
        let regexes = OnceLock::new();
        if eager {
            let compiled = compile_patterns(&r.patterns).map_err(|(p, m)| err(Some(&p), m))?;
            let _ = regexes.set(compiled);
        }
        let mut literals = Vec::new();
        for p in &r.patterns {
            if r.keywords.is_empty() {
                let lits = crate::prefilter::literals_of(p).map_err(|m| err(Some(p), m))?;
                literals.extend(lits);
            }
        }
        for k in &r.keywords {
            if k.len() < crate::prefilter::MIN_LITERAL_LEN {
                return Err(err(None, format!("keyword {k:?} is too short for the prefilter")));
            }
            literals.push(k.to_ascii_lowercase());
        }
        literals.sort();
        literals.dedup();
        let c = &self.causes[cause];
        let mut references = r.references;
        references.extend(c.references.iter().cloned());
        Ok(Rule {
            remediation: c.remediation.overlaid(&r.remediation),
            id: r.id,
            cause,
            title: r.title,
            patterns: r.patterns,
            regexes,
            priority: r.priority,
            needs_pull_context: r.needs_pull_context,
            literals,
            references,
            examples: r.examples,
            counterexamples: r.counterexamples,
            origin: origin.into(),
        })
    }
}

/// A compiled rule pattern: the meta regex under `regex::bytes` (same
/// syntax, Unicode on, any bytes matched), built for `is_match` only.
pub type Pattern = regex_automata::meta::Regex;

/// Compile a rule's patterns; on failure, the pattern and why.
///
/// No captures, no full DFA and no literal prefilter of the regex's own:
/// a rule runs only on messages where [`crate::prefilter`] found one of
/// its literals. With the defaults the 198 builtin patterns took 45-50 ms
/// to compile, with these settings 19 ms (best of 7 each,
/// `examples/rxtime.rs`).
pub fn compile_patterns(patterns: &[String]) -> Result<Vec<Pattern>, (String, String)> {
    use regex_automata::meta;
    use regex_automata::nfa::thompson::WhichCaptures;
    use regex_automata::util::syntax;
    let config = meta::Config::new()
        .which_captures(WhichCaptures::None)
        .dfa(false)
        .auto_prefilter(false)
        .nfa_size_limit(Some(1 << 20))
        .hybrid_cache_capacity(1 << 20);
    patterns
        .iter()
        .map(|p| {
            meta::Builder::new()
                .configure(config.clone())
                .syntax(syntax::Config::new().utf8(false))
                .build(p)
                .map_err(|e| (p.clone(), build_error(&e)))
        })
        .collect()
}

/// What is wrong with a pattern, in words: regex-automata's own message
/// for a size limit is only "error building NFA".
fn build_error(e: &regex_automata::meta::BuildError) -> String {
    if let Some(limit) = e.size_limit() {
        return format!(
            "too large: it compiles past the {limit}-byte limit (counted repetitions such as \
             {{1000}} multiply the pattern; use + or * where the count does not matter)"
        );
    }
    if let Some(syntax) = e.syntax_error() {
        return syntax.to_string();
    }
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message = format!("{message}: {s}");
        source = s.source();
    }
    message
}

fn parse_file(origin: &str, text: &str) -> Result<RuleFileSyntax, RuleError> {
    toml::from_str(text).map_err(|e| RuleError {
        file: origin.into(),
        rule: None,
        pattern: None,
        message: e.to_string().trim_end().to_string(),
    })
}

/// Ids are lowercase words joined by `.` and `-` (they are public API and
/// appear in `--fail-on` globs, so no spaces or glob characters).
fn ensure_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!("invalid id {id:?}: use lowercase letters, digits, '.', '-' and '_'"))
    }
}

/// A problem in a rule file, naming where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// The file (or builtin name).
    pub file: PathBuf,
    /// The rule or cause id, when the problem is inside one.
    pub rule: Option<String>,
    /// The pattern, when the problem is in one.
    pub pattern: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(rule) = &self.rule {
            write!(f, ": rule {rule}")?;
        }
        if let Some(p) = &self.pattern {
            write!(f, ": pattern {p:?}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for RuleError {}

#[cfg(test)]
mod tests {
    use super::*;

    const CAUSE: &str = r#"
[[causes]]
id = "x.y"
title = "X"
[causes.remediation]
general = "do it"
"#;

    fn add(extra: &str) -> Result<RuleSet, RuleError> {
        let mut set = RuleSet::default();
        set.add_source("t.toml", &format!("{CAUSE}{extra}"))?;
        Ok(set)
    }

    #[test]
    fn compiles_a_rule() {
        let set = add("[[rules]]\nid='x.y.z'\ncause='x.y'\ntitle='t'\npatterns=['no such host']\n")
            .unwrap();
        assert_eq!(set.rules[0].literals, vec!["no such host"]);
        assert_eq!(set.rules[0].remediation.general.as_deref(), Some("do it"));
    }

    #[test]
    fn errors_name_file_rule_and_pattern() {
        let e =
            add("[[rules]]\nid='r'\ncause='x.y'\ntitle='t'\npatterns=['(unclosed']\n").unwrap_err();
        assert_eq!(e.rule.as_deref(), Some("r"));
        assert_eq!(e.pattern.as_deref(), Some("(unclosed"));
        assert!(e.to_string().starts_with("t.toml: rule r: pattern \"(unclosed\""), "{e}");

        let e = add("[[rules]]\nid='r'\ncause='nope'\ntitle='t'\npatterns=['abcd']\n").unwrap_err();
        assert!(e.message.contains("unknown cause"), "{e}");
        let e = add("[[rules]]\nid='r'\ncause='x.y'\ntitle='t'\npatterns=['abcd']\nbogus=1\n")
            .unwrap_err();
        assert!(e.message.contains("unknown field"), "{e}");
        let e = add("[[rules]]\nid='r'\ncause='x.y'\ntitle='t'\npatterns=['abcd']\n[[rules]]\nid='r'\ncause='x.y'\ntitle='t'\npatterns=['abcd']\n").unwrap_err();
        assert!(e.message.contains("duplicate rule id"), "{e}");
        let e = add("[[rules]]\nid='r'\ncause='x.y'\ntitle='t'\npatterns=['.*']\n").unwrap_err();
        assert!(e.message.contains("literal"), "{e}");
        let e = add("[[rules]]\nid='r'\ncause='x.y'\ntitle='t'\npatterns=['a{1000}{1000}']\n")
            .unwrap_err();
        assert!(e.pattern.is_some(), "{e}");
    }
}
