//! Hostile input: bad bytes, broken files and links, interrupts, secrets,
//! and the accounting that says no line was lost.

use std::io::Write;

use pullscan::classify::Classifier;
use pullscan::input::Input;
use pullscan::rules;
use pullscan::scan::{self, ScanOptions};
use pullscan::summary::Counts;

use crate::util::{json_lines, pullscan, write};

/// A kubelet line that the rules classify as `network.dns`.
const FAIL: &str = r#"E0825 12:00:00.1 1 remote_image.go:180] "PullImage from image service failed" err="rpc error: code = Unknown desc = failed to pull and unpack image \"docker.io/library/nginx:1.25\": dial tcp: lookup registry-1.docker.io on 10.0.0.2:53: no such host""#;

fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("not json ({e}): {}", String::from_utf8_lossy(&out.stdout));
    })
}

/// The identity `stats` promises: every line is a candidate or not, and
/// every candidate is classified, unclassified, benign or outside the
/// time window; successes are part of benign.
fn assert_accounted(c: &Counts, what: &str) {
    assert!(c.candidate <= c.lines, "{what}: {c:?}");
    let sorted = c.classified + c.unclassified + c.benign + c.outside_window;
    assert_eq!(c.candidate, sorted, "{what}: {c:?}");
    assert!(c.successful <= c.benign, "{what}: {c:?}");
    assert!(c.duplicates <= c.classified + c.unclassified, "{what}: {c:?}");
}

#[test]
fn bad_bytes_crlf_and_no_final_newline_are_read_and_classified() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, Vec<u8>, u64); 5] = [
        ("invalid-utf8.log", [b"\xff\xfe\xc3(".as_slice(), FAIL.as_bytes(), b"\xff\n"].concat(), 1),
        ("nul.log", [b"\0\0bin\0".as_slice(), FAIL.as_bytes(), b"\0\n\0\n"].concat(), 2),
        ("crlf.log", format!("{FAIL}\r\nok\r\n{FAIL}\r\n").into_bytes(), 3),
        ("no-final-newline.log", format!("hello\n{FAIL}").into_bytes(), 2),
        ("empty.log", Vec::new(), 0),
    ];
    for (name, data, lines) in cases {
        let path = dir.path().join(name);
        write(&path, &data);
        let out = pullscan().args(["-o", "json"]).arg(&path).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let doc = json_of(&out);
        let stats = &doc["stats"];
        assert_eq!(stats["lines"], lines, "{name}");
        assert_eq!(stats["bytes"], data.len(), "{name}");
        let fails = data.windows(FAIL.len()).filter(|w| *w == FAIL.as_bytes()).count();
        assert_eq!(stats["classified"], fails, "{name}");
        if fails > 0 {
            assert_eq!(doc["causes"][0]["cause"], "network.dns", "{name}");
        }
    }
}

#[test]
fn truncated_and_corrupt_gzip_name_the_file_and_keep_what_was_read() {
    let dir = tempfile::tempdir().unwrap();
    let text: String = (0..2000).map(|i| format!("line {i}\n{FAIL}\n")).collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let cut = dir.path().join("cut.log.gz");
    write(&cut, &gz[..gz.len() / 2]);
    let corrupt = dir.path().join("corrupt.log.gz");
    write(&corrupt, [&gz[..10], b"this is not deflate".as_slice()].concat());
    let good = dir.path().join("good.log");
    write(&good, format!("{FAIL}\n"));
    let out = pullscan().args(["-o", "json"]).args([&cut, &corrupt, &good]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cut.log.gz:"), "{stderr}");
    assert!(stderr.contains("corrupt.log.gz:"), "{stderr}");
    let doc = json_of(&out);
    let inputs = doc["stats"]["per_input"].as_array().unwrap();
    // What came out before the cut is reported: hundreds of failures.
    let partial = inputs[0]["classified"].as_u64().unwrap();
    assert!(partial > 100 && partial < 2000, "{partial}");
    assert!(!inputs[0]["errors"].as_array().unwrap().is_empty());
    assert!(!inputs[1]["errors"].as_array().unwrap().is_empty());
    assert_eq!(inputs[2]["classified"], 1);
}

#[cfg(unix)]
#[test]
fn unreadable_inputs_are_one_error_each_and_the_rest_is_scanned() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("tree/a.log"), format!("{FAIL}\n"));
    symlink("../nowhere.log", d.join("tree/dangling.log")).unwrap();
    symlink(".", d.join("tree/self")).unwrap();
    symlink("a.log", d.join("tree/alias.log")).unwrap();
    let locked = d.join("locked.log");
    write(&locked, format!("{FAIL}\n"));
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads a file of mode 000; then there is no permission error.
    let can_deny = std::fs::File::open(&locked).is_err();

    // Without -L: the link to a directory is skipped, the one to a file is
    // read, the dangling one is an error that says so.
    let out = pullscan()
        .args(["-o", "json"])
        .arg(d.join("tree"))
        .arg(d.join("missing.log"))
        .arg(&locked)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(stderr.contains("dangling.log: broken symlink: its target ../nowhere.log"), "{stderr}");
    assert!(stderr.contains("missing.log: No such file or directory"), "{stderr}");
    if can_deny {
        assert!(stderr.contains("locked.log: Permission denied"), "{stderr}");
    }
    assert_eq!(lines.len(), 2 + usize::from(can_deny), "one line per error: {stderr}");
    let doc = json_of(&out);
    // a.log and alias.log (the same file, read twice), and locked.log
    // when root can read it.
    assert_eq!(doc["stats"]["classified"], 2 + u64::from(!can_deny));

    // With -L the link back to an ancestor is a loop, reported once.
    let out = pullscan().args(["-o", "json", "-L"]).arg(d.join("tree")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("symlink loop").count(), 1, "{stderr}");
    assert_eq!(json_of(&out)["stats"]["classified"], 2);
}

#[cfg(unix)]
#[test]
fn an_interrupt_during_the_scan_prints_nothing() {
    // The report is written once every input is read; a Ctrl-C before
    // that leaves stdout empty (no half table, no half JSON).
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("pullscan"))
        .args(["-o", "json", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for _ in 0..1000 {
        writeln!(stdin, "{FAIL}").unwrap();
    }
    stdin.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn every_line_of_every_corpus_file_is_accounted_for() {
    let c = Classifier::new(rules::builtin().unwrap()).unwrap();
    let mut inputs = Vec::new();
    let mut stack = vec![crate::util::path("corpus")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                inputs.push(Input::Path(p));
            }
        }
    }
    inputs.sort_by_key(Input::name);
    assert!(inputs.len() > 30);
    for threads in [1, 3] {
        let opts = ScanOptions { threads, min_chunk: 64, block_size: 4096, ..Default::default() };
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let summary = pool.install(|| scan::scan(&inputs, &c, &opts));
        let names: Vec<String> = inputs.iter().map(Input::name).collect();
        let report = summary.finish(c.rules(), &names);
        let mut sum = Counts::default();
        for (i, stats) in report.stats.inputs.iter().enumerate() {
            assert_accounted(&stats.counts, &stats.path);
            assert!(stats.errors.is_empty(), "{}: {:?}", stats.path, stats.errors);
            // Line-based inputs: every newline is a line, and a last line
            // without one. (Documents and exports count records.)
            let path = &names[i];
            let data = std::fs::read(path).unwrap();
            assert_eq!(stats.counts.bytes, data.len() as u64, "{path}");
            // (A `.log` that is one JSON document, such as a capture of
            // `skopeo inspect`, counts records too.)
            if path.ends_with(".log") && !path.contains("/cri/") && !data.starts_with(b"{") {
                let newlines = data.iter().filter(|&&b| b == b'\n').count() as u64;
                let last = u64::from(data.last().is_some_and(|&b| b != b'\n'));
                assert_eq!(stats.counts.lines, newlines + last, "{path}");
            }
            sum += &stats.counts;
        }
        assert_eq!(sum, report.stats.total);
        assert_accounted(&report.stats.total, "total");
        // Lines repeating an earlier input's are counted, not reported
        // twice (the corpus has a few: the same real line in two files).
        let reported: u64 = report.causes.iter().map(|c| c.lines).sum();
        assert_eq!(reported, sum.classified + sum.unclassified - sum.duplicates);
        assert!(sum.duplicates > 0);
    }
}

#[test]
fn capped_lists_say_so() {
    // More distinct images and hosts than a list keeps: the counts stay
    // whole, the rest goes to "other", and the output says it capped.
    let cap = pullscan::summary::TALLY_CAP;
    let text: String = (0..cap + 500)
        .map(|i| {
            format!(
                "Nov 22 00:01:21 node-{i} kubelet[1]: E1122 00:01:21.5 1 kuberuntime_image.go:53] \"Failed to pull image\" err=\"rpc error: code = NotFound desc = failed to pull and unpack image \\\"r{i}.example.com/app{i}:v1\\\": not found\"\n"
            )
        })
        .collect();
    let out = pullscan().args(["-o", "json"]).write_stdin(text.clone()).output().unwrap();
    let doc = json_of(&out);
    assert_eq!(doc["capped"], true);
    assert_eq!(doc["stats"]["classified"], cap + 500);
    let cause = &doc["causes"][0];
    assert_eq!(cause["count"], cap + 500);
    let hosts = cause["hosts"].as_array().unwrap();
    let other = hosts.iter().find(|h| h["name"] == "other").expect("an other bucket");
    assert_eq!(other["count"], 500);
    let table = pullscan().write_stdin(text).output().unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("note: lists capped at 10,000 distinct values"), "{table}");
}

#[test]
fn secrets_never_reach_any_output() {
    // One failure line per kind of secret; every output format and the
    // error messages are searched for the secret part.
    let cases: &[(&str, &str)] = &[
        (
            "Error response from daemon: Get \"https://robot:Hunter2Pass@reg.example.com/v2/\": unauthorized: incorrect username or password",
            "Hunter2Pass",
        ),
        (
            "Failed to pull image \"reg.example.com/app:1\": unexpected status: 401 Unauthorized (request had Authorization: Bearer sk_live_TOKEN123456)",
            "sk_live_TOKEN123456",
        ),
        (
            "Failed to pull image \"reg.example.com/app:1\": unauthorized: authentication required token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib3QifQ.c2lnbmF0dXJlX3BhcnQ",
            "eyJzdWIiOiJib3QifQ",
        ),
        (
            "Failed to pull image \"reg.example.com/app:1\": failed to copy: httpReadSeeker: failed open: unexpected status code https://bucket.s3.amazonaws.com/blob?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIAEXAMPLECRED&X-Amz-Signature=feedfacecafebeef: 403 Forbidden",
            "feedfacecafebeef",
        ),
        (
            "Failed to pull image \"reg.example.com/app:1\": failed to copy: unexpected status code https://acct.blob.core.windows.net/c/blob?sv=2021&se=2024-11-22T10%3A00Z&sig=AzureSasSignature%3D: 403 Forbidden",
            "AzureSasSignature",
        ),
        (
            "Run docker login -u bot -p S3cretLoginPw reg.example.com: Error response from daemon: Get \"https://reg.example.com/v2/\": unauthorized: incorrect username or password",
            "S3cretLoginPw",
        ),
        (
            "Failed to pull image \"reg.example.com/app:1\": unauthorized: authentication required (password=PlainPw42 secret=ClientSecret99)",
            "PlainPw42",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, (line, secret)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("case-{i}.log"));
        write(&path, format!("{line}\n"));
        let mut classified = false;
        for format in ["table", "json", "jsonl", "csv", "markdown"] {
            let out = pullscan().args(["-o", format, "--by", "registry,node"]).arg(&path).output();
            let out = out.unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!stdout.contains(secret), "{format} shows {secret}:\n{stdout}");
            assert!(!stderr.contains(secret), "{format} stderr shows {secret}:\n{stderr}");
            if format == "jsonl" {
                let events = json_lines(&out.stdout);
                classified = !events.is_empty();
                assert!(events.iter().all(|e| e["message"].as_str().unwrap().contains("REDACTED")));
            }
        }
        assert!(classified, "case {i} was not reported, so it tested nothing: {line}");
    }
    // Error messages: a path carrying a password in a URL.
    let out = pullscan().arg("https://me:UrlPathPw@example.com/app.log").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("UrlPathPw") && stderr.contains("REDACTED"), "{stderr}");
}
