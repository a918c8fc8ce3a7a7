//! `pullscan explain` and `pullscan rules ...` through the binary: exit
//! codes, output formats, and the loop from an unknown error to a rule
//! (`rules suggest` → `rules test DIR` → `--rules DIR`).

use serde_json::Value;

use crate::util::{json_lines, pullscan, write};

const DNS: &str = r#"E0825 12:00:00.1 1 remote_image.go:180] "PullImage from image service failed" err="rpc error: code = Unknown desc = failed to pull and unpack image \"docker.io/library/nginx:1.25\": failed to resolve reference \"docker.io/library/nginx:1.25\": failed to do request: Head \"https://registry-1.docker.io/v2/library/nginx/manifests/1.25\": dial tcp: lookup registry-1.docker.io on 10.0.0.2:53: no such host" image="docker.io/library/nginx:1.25""#;

/// A pull error no built-in rule knows (the runtime gave up on a layer).
fn unknown(n: u32) -> String {
    format!(
        "2024-11-22T09:31:{n:02}.001993000Z stderr F time=\"2024-11-22T09:31:{n:02}.001993000Z\" \
         level=error msg=\"Not continuing with pull after error: layer sha256:{:064x} quarantined by scanner\"\n",
        n
    )
}

#[test]
fn explain_says_which_rule_won_and_why() {
    let out = pullscan().args(["explain", DNS]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("format klog"), "{text}");
    assert!(text.contains("verdict   failure: network.dns"), "{text}");
    assert!(text.contains("highest priority"), "{text}");
    assert!(text.contains("for dockerhub"), "{text}");
}

#[test]
fn explain_reads_stdin_lines_as_json() {
    let input = format!("{DNS}\n\nBack-off pulling image \"myacr.azurecr.io/api:1\"\n");
    let out = pullscan().args(["explain", "-o", "json", "-"]).write_stdin(input).output().unwrap();
    assert!(out.status.success());
    let docs = json_lines(&out.stdout);
    assert_eq!(docs.len(), 2, "blank lines are skipped");
    assert_eq!(docs[0]["cause"]["id"], "network.dns");
    assert_eq!(docs[1]["cause"]["id"], "symptom.backoff");
    assert_eq!(docs[1]["registry"]["kind"], "acr");
}

#[test]
fn explain_never_prints_a_secret() {
    let line =
        "docker login -p hunter2secret myacr.azurecr.io: unauthorized: authentication required";
    for fmt in ["text", "json"] {
        let out = pullscan().args(["explain", "-o", fmt, line]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("hunter2secret"), "{fmt}: {text}");
    }
}

#[test]
fn rules_list_show_and_json() {
    let out = pullscan().args(["rules", "list"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("network.dns.lookup"), "{text}");

    let out = pullscan().args(["rules", "list", "-o", "json"]).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["rules"].as_array().unwrap().len() > 50);

    let out = pullscan().args(["rules", "show", "network.dns.lookup"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("no such host"));

    let out = pullscan().args(["rules", "show", "network.dsn"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean network.dns"));
}

#[test]
fn rules_lint_fails_only_on_errors_unless_strict() {
    let out = pullscan().args(["rules", "lint", "-o", "json"]).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors =
        doc["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "error").count();
    assert_eq!(errors, 0, "{doc:#}");
    assert_eq!(out.status.code(), Some(0));
    let strict = pullscan().args(["rules", "lint", "--strict"]).output().unwrap();
    let clean = doc["findings"].as_array().unwrap().is_empty();
    assert_eq!(strict.status.code(), Some(if clean { 0 } else { 1 }));
}

#[test]
fn rules_test_of_a_broken_user_rule_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("mine.toml"),
        r#"
[[rules]]
id = "local.quarantine"
cause = "image.integrity"
title = "Layer quarantined"
patterns = ['''quarantined by scanner''']
examples = ['''msg="pull failed: layer quarantined by scanner"''']
counterexamples = ['''layer quarantined by scanner: released''']
"#,
    );
    let out = pullscan().args(["rules", "test"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("local.quarantine") && text.contains("counterexample"), "{text}");
}

#[test]
fn an_unknown_error_becomes_a_rule() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("dind.log");
    write(&log, (0..5).map(unknown).collect::<String>());

    // The scan groups the five lines into one template, digest masked.
    let out = pullscan().args(["-o", "json"]).arg(&log).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = &doc["unclassified_templates"][0];
    assert_eq!(t["count"], 5, "{doc:#}");
    let template = t["template"].as_str().unwrap();
    assert!(template.contains("<digest>") && template.contains("quarantined by scanner"));
    assert_eq!(t["samples"].as_array().unwrap().len(), 3);

    // `rules suggest` drafts a rule; with its cause checked (here: kept as
    // guessed) it passes `rules test` and classifies the lines.
    let out = pullscan().args(["rules", "suggest"]).arg(&log).output().unwrap();
    assert!(out.status.success());
    let toml = String::from_utf8(out.stdout).unwrap();
    assert!(toml.contains("local.suggested-1") && toml.contains("Seen 5 times"), "{toml}");
    let rules = dir.path().join("rules");
    write(&rules.join("suggested.toml"), &toml);
    let out = pullscan().args(["rules", "test"]).arg(&rules).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let out = pullscan().args(["-o", "json", "--rules"]).arg(&rules).arg(&log).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["stats"]["unclassified"], 0, "{doc:#}");
    let cause = &doc["causes"][0];
    assert_eq!(cause["rules"][0]["name"], "local.suggested-1");
}

#[test]
fn a_file_named_like_a_command_is_scanned_with_a_path() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("rules"), format!("{DNS}\n"));
    let out = pullscan().current_dir(dir.path()).args(["-o", "json", "./rules"]).output().unwrap();
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["causes"][0]["cause"], "network.dns");
}

#[test]
fn follow_prints_new_failures_and_stops_on_ctrl_c() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("kubelet.log");
    write(&log, format!("{DNS}\n"));
    let bin = assert_cmd::cargo::cargo_bin("pullscan");
    let mut child = Command::new(bin)
        .args(["-f", "-o", "jsonl"])
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The existing line is the past (tail -F starts at the end); a line
    // appended after the follower opened the file is reported. Wait for
    // the open (its descriptor shows in /proc), however slow the machine.
    let fds = format!("/proc/{}/fd", child.id());
    let opened = || {
        std::fs::read_dir(&fds)
            .into_iter()
            .flatten()
            .flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == log))
    };
    let started = Instant::now();
    while !opened() {
        assert!(started.elapsed() < Duration::from_secs(20), "follow never opened the file");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    writeln!(f, "{}", unknown(7).trim_end()).unwrap();
    writeln!(f, "{DNS}").unwrap();
    drop(f);
    std::thread::sleep(Duration::from_millis(800));
    let sent = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "follow did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    assert_eq!(status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let events = json_lines(&out.stdout);
    let causes: Vec<&str> = events.iter().map(|e| e["cause"].as_str().unwrap()).collect();
    assert_eq!(causes, vec!["unclassified", "network.dns"]);
    assert_eq!(events[1]["line"], 3);
}

#[test]
fn follow_refuses_what_it_cannot_follow() {
    let out = pullscan().args(["-f", "-o", "json", "x.log"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not --output json"));
    let dir = tempfile::tempdir().unwrap();
    let out = pullscan().args(["-f", "-o", "jsonl"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to follow"));
    let out = pullscan().args(["-f"]).write_stdin("").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn rules_export_writes_each_target_and_refuses_an_unknown_table() {
    for (to, marker) in
        [("kql", "ContainerAppSystemLogs_CL"), ("logql", "count_over_time"), ("spl", "| eval")]
    {
        let out = pullscan().args(["rules", "export", "--to", to]).output().unwrap();
        assert!(out.status.success(), "{to}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(marker) && text.contains("network.dns"), "{to}: {text}");
    }
    let out = pullscan().args(["rules", "export", "--to", "kql", "--table", "KubeEvents"]).output();
    let text = String::from_utf8(out.unwrap().stdout).unwrap();
    assert!(text.contains("tostring(Message)"), "{text}");
    let out = pullscan().args(["rules", "export", "--to", "kql", "--table", "Nope"]).output();
    assert_eq!(out.unwrap().status.code(), Some(2));
}

#[test]
fn follow_streams_standard_input_and_ends_with_it() {
    use std::io::{BufRead as _, Write as _};
    use std::process::{Command, Stdio};
    use std::time::Duration;

    let bin = assert_cmd::cargo::cargo_bin("pullscan");
    let mut child = Command::new(bin)
        .args(["-f", "-o", "jsonl", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let _ = tx.send(line.unwrap());
        }
    });
    // The first failure is printed while the pipe is still open, as
    // `kubectl logs -f` would keep it.
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{DNS}").unwrap();
    stdin.flush().unwrap();
    let first = rx.recv_timeout(Duration::from_secs(10)).expect("an event before the pipe ends");
    let event: Value = serde_json::from_str(&first).unwrap();
    assert_eq!((&event["cause"], &event["line"]), (&"network.dns".into(), &1.into()));
    // A partial last line counts when the pipe ends; then following ends.
    write!(stdin, "ok\n{}", unknown(3).trim_end()).unwrap();
    drop(stdin);
    let second = rx.recv_timeout(Duration::from_secs(10)).expect("the last line's event");
    let event: Value = serde_json::from_str(&second).unwrap();
    assert_eq!((&event["cause"], &event["line"]), (&"unclassified".into(), &3.into()));
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}
