//! The command line: outputs, exit codes, stdin, directories, gzip, errors.

use std::io::Write;

use crate::util::{json_lines, path, pullscan, write};

const DNS_LINE: &str = "Nov 22 09:26:00 node-1 containerd[12]: time=\"2024-11-22T09:26:00Z\" level=error msg=\"PullImage \\\"myacr.azurecr.io/api:1\\\" failed\" error=\"failed to pull and unpack image \\\"myacr.azurecr.io/api:1\\\": failed to resolve reference \\\"myacr.azurecr.io/api:1\\\": failed to do request: Head \\\"https://myacr.azurecr.io/v2/api/manifests/1\\\": dial tcp: lookup myacr.azurecr.io on 10.0.0.2:53: no such host\"\n";
const AUTH_LINE: &str = "Error response from daemon: Get https://registry-1.docker.io/v2/acme/app/manifests/latest: unauthorized: incorrect username or password\n";

#[test]
fn table_is_the_default_and_fits_100_columns() {
    let out = pullscan().arg("corpus/own/own.log").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("pullscan: 1 input,"), "{text}");
    assert!(text.contains("network.dns"), "{text}");
    assert!(text.contains("az acr login"), "ACR remediation expected:\n{text}");
    for line in text.lines() {
        assert!(line.chars().count() <= 100, "line over 100 columns: {line:?}");
    }
}

#[test]
fn json_has_schema_stats_and_causes() {
    let out = pullscan().args(["--output", "json"]).arg("corpus/own/own.log").output().unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema_version"], 1);
    let stats = &doc["stats"];
    for k in ["inputs", "bytes", "lines", "candidate", "classified", "unclassified", "errors"] {
        assert!(stats[k].is_u64(), "stats.{k} missing: {stats}");
    }
    assert_eq!(stats["lines"], 38);
    let lines = stats["lines"].as_u64().unwrap();
    assert!(stats["candidate"].as_u64().unwrap() <= lines);
    let causes = doc["causes"].as_array().unwrap();
    let dns = causes.iter().find(|c| c["cause"] == "network.dns").expect("dns cause");
    assert_eq!(dns["count"], 2);
    assert!(dns["sample"]["line"].as_u64().unwrap() >= 1);
    assert!(dns["registries"].as_array().unwrap().iter().any(|r| r["name"] == "quay.io"));
    let ecr = causes.iter().find(|c| c["cause"] == "auth.unauthorized").unwrap();
    let fixes = ecr["remediation"].as_array().unwrap();
    let ecr_fix = fixes.iter().find(|f| f["registry_kind"] == "ecr").expect("ecr steps");
    let steps = ecr_fix["steps"].as_str().unwrap();
    assert!(steps.contains("eu-central-1"), "region filled in: {steps}");
}

#[test]
fn jsonl_has_one_event_per_reported_line() {
    let out = pullscan().args(["-o", "jsonl", "-"]).write_stdin(DNS_LINE).output().unwrap();
    assert!(out.status.success());
    let events = json_lines(&out.stdout);
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e["file"], "-");
    assert_eq!(e["line"], 1);
    assert_eq!(e["cause"], "network.dns");
    assert_eq!(e["rule"], "network.dns.lookup");
    assert_eq!(e["image"], "myacr.azurecr.io/api:1");
    assert_eq!(e["registry"], "myacr.azurecr.io");
    assert_eq!(e["registry_kind"], "acr");
    assert_eq!(e["host"], "node-1");
    assert_eq!(e["emitter"], "containerd");
    assert_eq!(e["time"], "2024-11-22T09:26:00Z");
    for k in ["format", "pod", "namespace", "message"] {
        assert!(e.get(k).is_some(), "field {k} missing");
    }
}

#[test]
fn csv_and_markdown_carry_the_summary() {
    let out = pullscan().args(["-o", "csv"]).write_stdin(AUTH_LINE).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    assert_eq!(&headers[0], "cause");
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][0], "auth.unauthorized");
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let fix = &rows[0][col("remediation")];
    assert!(fix.contains("docker login"), "{fix:?}");
    assert_eq!(&rows[0][col("incidents")], "1");
    assert_eq!(&rows[0][col("attributed_count")], "1");

    let out = pullscan().args(["-o", "markdown"]).write_stdin(AUTH_LINE).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("| `auth.unauthorized` | 1 |"), "{text}");
    assert!(text.contains("| 1 | `auth.unauthorized` | 1 | 1 | 1 | 1 |"), "{text}");
}

#[test]
fn unclassified_pull_failures_are_reported_not_dropped() {
    let line = "Error: failed to pull image acme/app:1: the flux capacitor is out of alignment\n";
    let out = pullscan().args(["-o", "jsonl"]).write_stdin(line).output().unwrap();
    let events = json_lines(&out.stdout);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["cause"], "unclassified");
    let out = pullscan().args(["-o", "json"]).write_stdin(line).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["stats"]["unclassified"], 1);
    assert_eq!(doc["causes"][0]["cause"], "unclassified");
}

#[test]
fn exit_codes_fail_on_and_errors() {
    // 0: ran, cause found but not asked to fail.
    pullscan().write_stdin(AUTH_LINE).assert().code(0);
    // 1: --fail-on matched.
    pullscan().args(["--fail-on", "auth.*"]).write_stdin(AUTH_LINE).assert().code(1);
    // 0: --fail-on did not match.
    pullscan().args(["--fail-on", "network.*"]).write_stdin(AUTH_LINE).assert().code(0);
    // 2: a glob that can never match is a mistake, not a silent pass.
    let out = pullscan().args(["--fail-on", "auth.unauthorised"]).write_stdin(AUTH_LINE).output();
    let out = out.unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("matches no cause id"));
    // 2: bad arguments.
    pullscan().args(["--output", "yaml"]).assert().code(2);
    // 2: an unreadable input, after reporting what could be read.
    let out = pullscan()
        .args(["-o", "json", "corpus/own/own.log", "does/not/exist.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("does/not/exist.log"), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["stats"]["errors"], 1);
    assert!(doc["stats"]["classified"].as_u64().unwrap() > 20, "the readable input was scanned");
    // Errors beat --fail-on: the run is incomplete.
    pullscan().args(["--fail-on", "*", "corpus/own/own.log", "missing.log"]).assert().code(2);
}

#[test]
fn directories_are_walked_and_globbed_and_gzip_is_sniffed() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("a/node.log"), DNS_LINE);
    write(&dir.path().join("a/b/build.txt"), AUTH_LINE);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(DNS_LINE.as_bytes()).unwrap();
    gz.write_all(AUTH_LINE.as_bytes()).unwrap();
    write(&dir.path().join("a/rotated.1"), gz.finish().unwrap());

    let out = pullscan().args(["-o", "json"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["stats"]["inputs"], 3);
    assert_eq!(doc["stats"]["classified"], 4, "{}", doc["stats"]);

    let out = pullscan().args(["-o", "json", "--glob", "*.log"]).arg(dir.path()).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["stats"]["inputs"], 1);
    assert_eq!(doc["causes"][0]["cause"], "network.dns");
}

#[test]
fn bad_rule_files_are_clear_errors() {
    let cases: &[(&str, &str)] = &[
        ("[[rules]\nid=", "expected"),
        (
            "[[rules]]\nid = \"x.bad\"\ncause = \"auth.denied\"\ntitle = \"t\"\npatterns = ['(unclosed']\n",
            "rule x.bad: pattern \"(unclosed\"",
        ),
        (
            "[[rules]]\nid = \"x.c\"\ncause = \"no.such\"\ntitle = \"t\"\npatterns = ['abcd']\n",
            "unknown cause",
        ),
        (
            "[[rules]]\nid = \"x.f\"\ncause = \"auth.denied\"\ntitle = \"t\"\npatterns = ['abcd']\nsevertiy = 1\n",
            "unknown field",
        ),
        (
            "[[rules]]\nid = \"network.proxy\"\ncause = \"auth.denied\"\ntitle = \"t\"\npatterns = ['abcd']\n",
            "duplicate rule id",
        ),
        (
            "[[rules]]\nid = \"x.big\"\ncause = \"auth.denied\"\ntitle = \"t\"\npatterns = ['(?:abcd\\w{100}){1000}']\n",
            "rule x.big: pattern \"(?:abcd\\\\w{100}){1000}\": too large",
        ),
    ];
    for (content, want) in cases {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("mine.toml"), content);
        let out =
            pullscan().arg("--rules").arg(dir.path()).write_stdin(AUTH_LINE).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{content}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("mine.toml"), "file not named: {stderr}");
        assert!(stderr.contains(want), "want {want:?} in: {stderr}");
    }
}

#[test]
fn user_rules_extend_the_table() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("flux.toml"),
        "[[causes]]\nid = \"acme.flux\"\ntitle = \"Flux capacitor\"\n[causes.remediation]\ngeneral = \"Realign it.\"\n\n\
         [[rules]]\nid = \"acme.flux\"\ncause = \"acme.flux\"\ntitle = \"Flux\"\npatterns = ['flux capacitor']\nexamples = ['the flux capacitor broke']\n",
    );
    let line = "Error: failed to pull image acme/app:1: the flux capacitor is out of alignment\n";
    let out =
        pullscan().args(["-o", "jsonl", "--rules"]).arg(dir.path()).write_stdin(line).output();
    let events = json_lines(&out.unwrap().stdout);
    assert_eq!(events[0]["cause"], "acme.flux");
}

#[test]
fn head_closing_the_pipe_is_quiet() {
    // A reader that leaves early must not cause a panic message or an error.
    let big: String = std::iter::repeat_n(AUTH_LINE, 20_000).collect();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("pullscan"))
        .args(["-o", "jsonl", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(big.as_bytes());
    });
    // Read one line, then close our end of stdout.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    let _ = std::io::Read::read(&mut stdout, &mut first).unwrap();
    drop(stdout);
    writer.join().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn empty_stdin_reads_as_an_empty_input() {
    // assert_cmd gives an empty (non-terminal) stdin: that reads as empty.
    // (The terminal case, a usage error, needs a pty; plan.rs checks it.)
    let out = pullscan().args(["-o", "json"]).write_stdin("").output().unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["stats"]["lines"], 0);
    assert!(path("README.md").exists());
}

#[test]
fn readme_sample_is_what_the_main_job_prints() {
    // On a copy of the corpus whose files all have one date (2025-12-01),
    // as on a fresh clone: yearless syslog and klog times take their year
    // from the file's modification time, and attribution follows time
    // across inputs, so a working tree whose files were touched at other
    // times (tests/golden.rs dates one of them) would count differently.
    let fresh = tempfile::tempdir().unwrap();
    for entry in walkdir::WalkDir::new(path("corpus")) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(crate::util::root()).unwrap();
        let to = fresh.path().join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
            // One fixed date, so the sample does not change with the day
            // the test runs (a log from December read in January).
            let date = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_764_547_200);
            std::fs::File::options().write(true).open(&to).unwrap().set_modified(date).unwrap();
        }
    }
    let out = pullscan()
        .current_dir(fresh.path())
        .args(["corpus/", "--glob", "!*.{jsonl,md}"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let readme_path = path("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    // The sample: the stats line and the first rows of the table, then the
    // network.dns block. `PULLSCAN_BLESS=1 cargo test` rewrites it.
    let dns = lines.iter().position(|l| l.starts_with("■ network.dns —")).expect("dns block");
    let sample = format!(
        "{}\n...\n\n{}\n    ...\n",
        lines[..18].join("\n"),
        lines[dns..dns + 24].join("\n")
    );
    let start = readme.find("## Output sample").expect("README has an Output sample section");
    let open = start + readme[start..].find("```\n").expect("code block") + 4;
    let close = open + readme[open..].find("```\n").expect("code block end");
    if std::env::var_os("PULLSCAN_BLESS").is_some() {
        let blessed = format!("{}{sample}{}", &readme[..open], &readme[close..]);
        std::fs::write(&readme_path, blessed).unwrap();
        return;
    }
    // Yearless syslog and klog times depend on the clone's file times (the
    // year policy), so the `seen` line is not compared.
    let timeless = |s: &str| -> String {
        s.lines().filter(|l| !l.starts_with("  seen ")).collect::<Vec<_>>().join("\n")
    };
    assert_eq!(
        timeless(&readme[open..close]),
        timeless(&sample),
        "README sample is stale: run `PULLSCAN_BLESS=1 cargo test readme_sample`"
    );
}

const PULLED_LINE: &str = "Nov 22 09:30:00 node-2 kubelet[7]: I1122 09:30:00.000000       7 event.go:389] \"Event occurred\" object=\"web/web-1\" kind=\"Pod\" type=\"Normal\" reason=\"Pulled\" message=\"Successfully pulled image \\\"myacr.azurecr.io/api:1\\\" in 1.2s\"\n";

#[test]
fn successful_pulls_give_a_failure_ratio() {
    let input = format!("{DNS_LINE}{PULLED_LINE}{PULLED_LINE}{PULLED_LINE}");
    let out =
        pullscan().args(["-o", "json", "--year", "2024"]).write_stdin(input).output().unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["stats"]["successful"], 3);
    let img = &doc["images"][0];
    assert_eq!(img["image"], "myacr.azurecr.io/api:1");
    assert_eq!(img["failures"], 1);
    assert_eq!(img["successes"], 3);
    assert_eq!(img["failure_ratio"], 0.25);
    assert_eq!(doc["pulled_registries"][0]["name"], "myacr.azurecr.io");
    let table = pullscan()
        .args(["--year", "2024"])
        .write_stdin(format!("{DNS_LINE}{PULLED_LINE}"))
        .output()
        .unwrap();
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.contains("Failure ratio"), "{text}");
    assert!(text.contains("50 %"), "{text}");
}

#[test]
fn since_and_until_filter_on_record_time() {
    // DNS_LINE is at 2024-11-22T09:26:00Z; PULLED_LINE at 09:30 (year 2024).
    let input = format!("{DNS_LINE}{AUTH_LINE}");
    let run = |args: &[&str]| {
        let out = pullscan()
            .args(["-o", "json", "--year", "2024"])
            .args(args)
            .write_stdin(input.clone())
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        doc
    };
    let doc = run(&["--since", "2024-11-22T09:27:00Z"]);
    // The DNS line is too early; the AUTH line has no time and is kept.
    assert_eq!(doc["stats"]["classified"], 1, "{}", doc["stats"]);
    assert_eq!(doc["stats"]["outside_window"], 1);
    assert_eq!(doc["causes"][0]["cause"], "auth.unauthorized");
    let doc = run(&["--until", "2024-11-22"]);
    assert_eq!(doc["stats"]["outside_window"], 1);
    let doc = run(&["--since", "2024-11-22T09:00:00Z", "--until", "2024-11-22T10:00:00Z"]);
    assert_eq!(doc["stats"]["classified"], 2);
    // Relative ages parse; an old log is entirely outside the last hour.
    let doc = run(&["--since", "1h"]);
    assert_eq!(doc["stats"]["outside_window"], 1);
    pullscan().args(["--since", "yesterday"]).write_stdin("").assert().code(2);
    pullscan().args(["--since", "2h", "--until", "3h"]).write_stdin("").assert().code(2);
}

#[test]
fn by_groups_the_summary() {
    let out = pullscan()
        .args(["-o", "json", "--by", "registry,cause"])
        .arg("corpus/own/own.log")
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let groups = doc["groups"].as_array().unwrap();
    assert!(groups.iter().any(|g| g["key"] == "quay.io / network.dns"), "{groups:#?}");
    let total: u64 = groups.iter().map(|g| g["count"].as_u64().unwrap()).sum();
    let causes: u64 =
        doc["causes"].as_array().unwrap().iter().map(|c| c["count"].as_u64().unwrap()).sum();
    assert_eq!(total, causes, "every reported occurrence is in exactly one group");
    let csv = pullscan().args(["-o", "csv", "--by", "node"]).arg("corpus/own/own.log").output();
    let text = String::from_utf8(csv.unwrap().stdout).unwrap();
    assert!(text.starts_with("group,count,lines,causes"), "{text}");
    assert!(text.contains("node-3,"), "{text}");
    pullscan().args(["--by", "colour"]).write_stdin("").assert().code(2);
}

const CSV_HEADER: &str = "TimeGenerated [UTC],ContainerAppName_s,RevisionName_s,Log_s,Type_s\r\n";
const CSV_FAIL: &str = "\"11/22/2024, 9:26:00.123 AM\",web,web--r1,\"Failed to pull image \"\"myacr.azurecr.io/web:1\"\": rpc error: code = Unknown desc = failed to pull and unpack image \"\"myacr.azurecr.io/web:1\"\": failed to resolve reference \"\"myacr.azurecr.io/web:1\"\": failed to authorize: failed to fetch oauth token: unexpected status from POST request to https://myacr.azurecr.io/oauth2/token: 401 Unauthorized\",Warning\r\n";

#[test]
fn a_malformed_csv_row_is_an_error_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.csv");
    let bad_row = "\"11/22/2024, 9:27:00.000 AM\",web,only-three-fields\r\n";
    write(&file, format!("{CSV_HEADER}{CSV_FAIL}{bad_row}{CSV_FAIL}"));
    let out = pullscan().args(["-o", "json"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("export.csv: line 3"), "file and line named: {stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["stats"]["classified"], 2, "rows on both sides of the bad one");
    assert_eq!(doc["stats"]["errors"], 1);
    assert_eq!(doc["causes"][0]["cause"], "auth.unauthorized");
    assert_eq!(doc["causes"][0]["first_seen"], "2024-11-22T09:26:00.123Z");
}

#[test]
fn a_broken_json_document_reports_what_came_before_the_error() {
    let event = |name: &str| {
        format!(
            r#"{{"kind":"Event","type":"Warning","reason":"Failed","count":3,
  "involvedObject":{{"kind":"Pod","namespace":"shop","name":"{name}"}},
  "source":{{"component":"kubelet","host":"node-7"}},
  "lastTimestamp":"2024-11-22T09:26:00Z",
  "message":"Failed to pull image \"quay.io/acme/web:9\": rpc error: code = NotFound desc = failed to pull and unpack image \"quay.io/acme/web:9\": failed to resolve reference \"quay.io/acme/web:9\": quay.io/acme/web:9: not found"}}"#
        )
    };
    let doc = format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[\n{},\n{},\n{{\"kind\": \"Event\", \"message\": oops\n",
        event("web-1"),
        event("web-2")
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.json");
    write(&file, &doc);
    let out = pullscan().args(["-o", "jsonl"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("events.json: line 12"), "{stderr}");
    let events = json_lines(&out.stdout);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["pod"], "web-1");
    assert_eq!(events[1]["namespace"], "shop");
    assert_eq!(events[1]["count"], 3);
    assert_eq!(events[1]["cause"], "image.not-found");
    assert_eq!(events[1]["line"], 7);
    // The same document on stdin, as `kubectl get events -o json | pullscan`.
    let good = format!("{{\"kind\":\"List\",\"items\":[{},{}]}}", event("a"), event("b"));
    let out = pullscan().args(["-o", "json"]).write_stdin(good).output().unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["causes"][0]["count"], 6, "count 3 on each of two events");
}

/// The text with ANSI escape sequences (CSI ... letter) taken out.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        if chars.next() == Some('[') {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        }
    }
    out
}

#[test]
fn color_always_colours_the_table_and_keeps_its_width() {
    let out = pullscan().args(["--color", "always", "corpus/own/own.log"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\x1b["), "no ANSI escapes:\n{text}");
    // Red (bold) for a root cause, yellow for a symptom, in the ranking
    // and the block headers.
    assert!(text.contains("\x1b[31m■ network.dns\x1b[0m"), "{text}");
    assert!(text.contains("\x1b[38;5;3msymptom.unspecified*"), "{text}");
    let plain = strip_ansi(&text);
    for line in plain.lines() {
        assert!(line.chars().count() <= 100, "line over 100 columns: {line:?}");
    }
    // Colour only adds escapes: the text is the uncoloured table's.
    let never = pullscan().args(["--color", "never", "corpus/own/own.log"]).output().unwrap();
    assert_eq!(plain, String::from_utf8(never.stdout).unwrap());
}

#[test]
fn no_colour_unless_asked_or_on_a_terminal() {
    let has_escape = |args: &[&str], no_color: Option<&str>| {
        let mut cmd = pullscan();
        cmd.args(args).arg("corpus/own/own.log").env_remove("NO_COLOR");
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        out.stdout.contains(&0x1b) || out.stderr.contains(&0x1b)
    };
    // Standard output is a pipe here: auto is off, with or without NO_COLOR.
    assert!(!has_escape(&[], None));
    assert!(!has_escape(&["--color", "auto"], Some("1")));
    assert!(!has_escape(&["--color", "never"], None));
    // `always` wins over NO_COLOR: it was asked for.
    assert!(has_escape(&["--color", "always"], Some("1")));
    // Never in the outputs for programs.
    for format in ["json", "jsonl", "csv", "markdown"] {
        assert!(!has_escape(&["-o", format, "--color", "always"], None), "{format}");
    }
    pullscan().args(["--color", "sometimes", "corpus/own/own.log"]).assert().code(2);
}

#[test]
fn no_progress_is_accepted_and_no_bar_is_drawn_into_a_pipe() {
    for args in [&["--no-progress"][..], &[]] {
        let out = pullscan().args(args).arg("corpus/own/own.log").output().unwrap();
        assert!(out.status.success(), "{out:?}");
        assert!(out.stderr.is_empty(), "{:?}", String::from_utf8_lossy(&out.stderr));
    }
    pullscan().args(["rules", "suggest", "--no-progress", "corpus/own/own.log"]).assert().success();
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = pullscan().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        // fish spells long options `-l incident-gap`.
        assert!(text.contains("incident-gap"), "{shell}: no --incident-gap");
        assert!(text.contains("explain"), "{shell}: no explain");
        assert!(text.contains("pullscan"), "{shell}");
    }
    pullscan().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn man_page_is_roff_for_pullscan_and_its_commands() {
    let out = pullscan().arg("man").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let titles: Vec<&str> = text.lines().filter(|l| l.starts_with(".TH ")).collect();
    assert!(titles[0].starts_with(".TH pullscan 1"), "{titles:?}");
    for page in ["pullscan-explain", "pullscan-rules-suggest", "pullscan-completions"] {
        assert!(titles.iter().any(|t| t.starts_with(&format!(".TH {page} "))), "{titles:?}");
    }
    assert!(text.contains("incident\\-gap"), "options are listed");
    assert!(text.contains("NO_COLOR"), "the help text is the page's");
}
