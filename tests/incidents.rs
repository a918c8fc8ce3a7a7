//! Root causes, not lines: symptom attribution, incidents and duplicate
//! events, end to end through the binary.

use serde_json::Value;

use crate::util::{pullscan, write};

/// A kubelet line (in syslog) for pod `web/<pod>` at `hh:mm`: `reason` is
/// the error kubelet reports.
fn kubelet(hhmm: &str, pod: &str, reason: &str) -> String {
    format!(
        "Nov 22 {hhmm}:00 node-1 kubelet[7]: E1122 {hhmm}:00.000000       7 pod_workers.go:1301] \
         \"Error syncing pod, skipping\" err=\"failed to \\\"StartContainer\\\" for \\\"c\\\" with \
         {reason}\" pod=\"web/{pod}\" podUID=\"{pod}\"\n"
    )
}

/// ErrImagePull with a 401 from the token endpoint of `image`'s registry.
fn unauthorized(hhmm: &str, pod: &str, image: &str) -> String {
    let host = image.split('/').next().unwrap();
    kubelet(
        hhmm,
        pod,
        &format!(
            "ErrImagePull: \\\"rpc error: code = Unknown desc = failed to pull and unpack image \
             \\\\\\\"{image}\\\\\\\": failed to resolve reference \\\\\\\"{image}\\\\\\\": failed to \
             authorize: failed to fetch oauth token: unexpected status from POST request to \
             https://{host}/oauth2/token: 401 Unauthorized\\\""
        ),
    )
}

fn backoff(hhmm: &str, pod: &str, image: &str) -> String {
    kubelet(
        hhmm,
        pod,
        &format!("ImagePullBackOff: \\\"Back-off pulling image \\\\\\\"{image}\\\\\\\"\\\""),
    )
}

fn json(args: &[&str], files: &[(&str, String)]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = pullscan();
    cmd.args(["-o", "json", "--year", "2024"]).args(args);
    for (name, text) in files {
        let p = dir.path().join(name);
        write(&p, text);
        cmd.arg(&p);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn cause<'a>(doc: &'a Value, id: &str) -> &'a Value {
    let causes = doc["causes"].as_array().unwrap();
    causes.iter().find(|c| c["cause"] == id).unwrap_or_else(|| panic!("no {id}: {doc:#}"))
}

const API: &str = "myacr.azurecr.io/api:1";
const DB: &str = "docker.io/library/postgres:16";

#[test]
fn back_off_lines_count_with_the_cause_seen_for_their_image() {
    let log = [
        unauthorized("09:26", "api-1", API),
        backoff("09:27", "api-1", API),
        backoff("09:28", "api-1", API),
        // A back-off of another image, whose cause was never logged.
        backoff("09:29", "db-1", DB),
    ]
    .concat();
    let doc = json(&[], &[("kubelet.log", log)]);
    let auth = cause(&doc, "auth.unauthorized");
    assert_eq!((&auth["count"], &auth["attributed_count"]), (&1.into(), &3.into()));
    assert_eq!((&auth["incidents"], &auth["images_hit"]), (&1.into(), &1.into()));
    let backoff = cause(&doc, "symptom.backoff");
    assert_eq!((&backoff["count"], &backoff["attributed_count"]), (&3.into(), &1.into()));
    assert_eq!(doc["attribution"]["symptoms"], 3);
    assert_eq!(doc["attribution"]["attributed"], 2);
    // The ranking: the root cause first, the unexplained symptom after.
    let ranked: Vec<(&str, bool)> = doc["root_causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["cause"].as_str().unwrap(), r["symptom"].as_bool().unwrap()))
        .collect();
    assert_eq!(ranked, vec![("auth.unauthorized", false), ("symptom.backoff", true)]);
    let first = &doc["incidents"][0];
    assert_eq!(first["cause"], "auth.unauthorized");
    assert_eq!(first["image"], API);
    assert_eq!((&first["count"], &first["attributed"]), (&3.into(), &2.into()));
    assert_eq!(first["first_seen"], "2024-11-22T09:26:00");
    assert_eq!(first["last_seen"], "2024-11-22T09:28:00");
}

#[test]
fn attribution_follows_time_across_inputs() {
    // The cause is in a second file (the runtime's log), written before
    // the back-off of the first; a later, different cause takes over.
    let kubelet_log = [backoff("09:27", "api-1", API), backoff("09:41", "api-1", API)].concat();
    let runtime_log = [
        unauthorized("09:26", "api-1", API),
        kubelet("09:40", "api-1", &format!("ErrImagePull: \\\"failed to pull image \\\\\\\"{API}\\\\\\\": manifest unknown\\\"")),
    ]
    .concat();
    let doc = json(&[], &[("kubelet.log", kubelet_log), ("runtime.log", runtime_log)]);
    assert_eq!(cause(&doc, "auth.unauthorized")["attributed_count"], 2);
    assert_eq!(cause(&doc, "image.not-found")["attributed_count"], 2);
    assert_eq!(doc["attribution"]["attributed"], 2);
}

#[test]
fn a_quiet_gap_splits_incidents() {
    let log = [
        unauthorized("09:00", "api-1", API),
        unauthorized("09:10", "api-1", API),
        unauthorized("10:00", "api-1", API),
        unauthorized("10:05", "api-2", "myacr.azurecr.io/web:2"),
    ]
    .concat();
    let by_default = json(&[], &[("a.log", log.clone())]);
    assert_eq!(cause(&by_default, "auth.unauthorized")["incidents"], 3);
    assert_eq!(cause(&by_default, "auth.unauthorized")["images_hit"], 2);
    let wide = json(&["--incident-gap", "1h"], &[("a.log", log.clone())]);
    assert_eq!(cause(&wide, "auth.unauthorized")["incidents"], 2);
    assert_eq!(wide["attribution"]["incident_gap_secs"], 3600);
    let narrow = json(&["--incident-gap", "5m"], &[("a.log", log)]);
    assert_eq!(cause(&narrow, "auth.unauthorized")["incidents"], 4);
}

#[test]
fn a_bad_incident_gap_is_refused() {
    let out = pullscan().args(["--incident-gap", "soon", "-"]).write_stdin("").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--incident-gap \"soon\"") && err.contains("30m"), "{err}");
}

#[test]
fn a_log_and_its_rotated_copy_are_counted_once() {
    let log = [unauthorized("09:26", "api-1", API), backoff("09:27", "api-1", API)].concat();
    // The copy holds the same lines and one of its own.
    let copy = [log.clone(), unauthorized("09:30", "api-1", API)].concat();
    let files = [("kubelet.log.1", log), ("kubelet.log", copy)];
    let doc = json(&[], &files);
    assert_eq!(cause(&doc, "auth.unauthorized")["count"], 2);
    assert_eq!(cause(&doc, "symptom.backoff")["count"], 1);
    assert_eq!(doc["stats"]["duplicates"], 2);
    assert_eq!(doc["stats"]["per_input"][1]["duplicates"], 2);
    assert_eq!(doc["stats"]["dedup"], true);
    // Both counts: classified still counts every line read.
    assert_eq!(doc["stats"]["classified"], 5);

    let kept = json(&["--no-dedup"], &files);
    assert_eq!(cause(&kept, "auth.unauthorized")["count"], 3);
    assert_eq!(kept["stats"]["duplicates"], 2);
    assert_eq!(kept["stats"]["dedup"], false);
}

#[test]
fn equal_lines_within_one_input_are_not_duplicates() {
    // Two lines at the same second in one file are two events (and lines
    // without a time are never taken for duplicates).
    let line = unauthorized("09:26", "api-1", API);
    let doc = json(&[], &[("a.log", [line.clone(), line].concat())]);
    assert_eq!(cause(&doc, "auth.unauthorized")["count"], 2);
    let untimed = "Error response from daemon: Get https://registry-1.docker.io/v2/acme/app/manifests/latest: unauthorized: incorrect username or password\n";
    let doc = json(&[], &[("a.log", untimed.into()), ("b.log", untimed.into())]);
    assert_eq!(cause(&doc, "auth.unauthorized")["count"], 2);
    assert_eq!(doc["stats"]["duplicates"], 0);
}

#[test]
fn the_table_opens_with_the_ranked_root_causes() {
    let log = [
        unauthorized("09:26", "api-1", API),
        backoff("09:27", "api-1", API),
        backoff("09:29", "db-1", DB),
    ]
    .concat();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("kubelet.log");
    write(&p, log);
    let out = pullscan().args(["--year", "2024"]).arg(&p).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let head = text.find("Root causes, what to fix first:").expect("ranking");
    let row = |cause: &str| {
        let at = text.find(&format!("┆ {cause} ")).unwrap_or_else(|| panic!("{cause}: {text}"));
        let line = &text[text[..at].rfind('\n').unwrap() + 1..at];
        (at, line.trim_matches(['│', ' ']).to_string())
    };
    let (auth, rank) = row("auth.unauthorized");
    assert_eq!(rank, "1");
    let (backoff, rank) = row("symptom.backoff*");
    assert_eq!(rank, "2");
    assert!(head < auth && auth < backoff, "{text}");
    assert!(text.contains("note: 1 of 2 symptom-only occurrences"), "{text}");
    assert!(text.contains("(401) (1 line); 1 symptom occurrence"), "{text}");
}
