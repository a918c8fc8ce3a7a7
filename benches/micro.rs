//! Micro benchmarks (criterion): each format's parser, the prefilter and
//! the classifier, on lines taken from the corpus. `cargo bench --bench
//! micro`. The end-to-end comparison with ripgrep is `benches/e2e.sh`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use pullscan::classify::Classifier;
use pullscan::format::{self, LineContext};
use pullscan::rules;

/// One representative line per line format.
const LINES: &[(&str, &str)] = &[
    (
        "syslog+logfmt",
        r#"Nov 22 09:26:00 aks-node-7 containerd[812]: time="2024-11-22T09:26:00.120000000Z" level=error msg="PullImage \"prodacr.azurecr.io/payments/api:2.4.1\" failed" error="failed to pull and unpack image \"prodacr.azurecr.io/payments/api:2.4.1\": failed to resolve reference \"prodacr.azurecr.io/payments/api:2.4.1\": failed to authorize: failed to fetch oauth token: unexpected status from POST request to https://prodacr.azurecr.io/oauth2/token: 401 Unauthorized""#,
    ),
    (
        "klog",
        r#"E1122 09:27:00.000001    4211 remote_image.go:180] "PullImage from image service failed" err="rpc error: code = Unknown desc = failed to pull and unpack image \"quay.io/acme/db:14\": failed to resolve reference \"quay.io/acme/db:14\": unexpected status from HEAD request to https://quay.io/v2/acme/db/manifests/14: 502 Bad Gateway" image="quay.io/acme/db:14""#,
    ),
    (
        "k8s-event",
        r#"  Warning  Failed     12s (x2 over 30s)  kubelet  Failed to pull image "europe-docker.pkg.dev/acme-prod/svc/api:7": rpc error: code = Unknown desc = failed to pull and unpack image "europe-docker.pkg.dev/acme-prod/svc/api:7": failed to resolve reference "europe-docker.pkg.dev/acme-prod/svc/api:7": unexpected status from HEAD request to https://europe-docker.pkg.dev/v2/acme-prod/svc/api/manifests/7: 403 Forbidden"#,
    ),
    (
        "docker-cli",
        r#"Error response from daemon: pull access denied for privateorg/secret-app, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"#,
    ),
    (
        "journald-json",
        r#"{"__REALTIME_TIMESTAMP":"1732267560000000","_HOSTNAME":"node-1","SYSLOG_IDENTIFIER":"containerd","PRIORITY":"3","MESSAGE":"time=\"2024-11-22T09:26:00Z\" level=error msg=\"PullImage \\\"docker.io/library/redis:7\\\" failed\" error=\"failed to pull and unpack image \\\"docker.io/library/redis:7\\\": failed to copy: httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/redis/manifests/sha256:ab: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit\""}"#,
    ),
    (
        "cri",
        r#"2024-11-22T09:28:00.500000000Z stderr F Error response from daemon: Head "https://ghcr.io/v2/acme/tool/manifests/1.2": unauthorized"#,
    ),
];

fn parsers(c: &mut Criterion) {
    let ctx = LineContext::in_year(2024);
    let mut g = c.benchmark_group("parse");
    for (name, line) in LINES {
        g.throughput(Throughput::Bytes(line.len() as u64));
        g.bench_function(*name, |b| b.iter(|| format::parse_line(black_box(line), &ctx)));
    }
    g.finish();
}

/// A buffer like a node's syslog: the background corpus with a failure
/// line every 200 lines.
fn haystack() -> Vec<u8> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/noise");
    let mut noise = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(root).expect("corpus/noise").flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        noise.extend(std::fs::read(e.path()).expect("noise file"));
    }
    let mut hay = Vec::with_capacity(noise.len() + noise.len() / 20);
    for (i, line) in noise.split(|&b| b == b'\n').enumerate() {
        hay.extend_from_slice(line);
        hay.push(b'\n');
        if i % 200 == 0 {
            hay.extend_from_slice(LINES[i / 200 % LINES.len()].1.as_bytes());
            hay.push(b'\n');
        }
    }
    hay
}

fn prefilter(c: &mut Criterion) {
    let classifier = Classifier::new(rules::builtin().expect("rules")).expect("prefilter");
    let hay = haystack();
    let mut g = c.benchmark_group("prefilter");
    g.throughput(Throughput::Bytes(hay.len() as u64));
    g.bench_function("candidate_lines", |b| {
        let mut out = Vec::new();
        b.iter(|| {
            out.clear();
            classifier.prefilter().candidate_lines(black_box(&hay), &mut out);
            out.len()
        })
    });
    g.bench_function("find_loop", |b| {
        b.iter(|| {
            let (mut pos, mut n) = (0, 0);
            while let Some(h) = classifier.prefilter().find(black_box(&hay), pos) {
                n += 1;
                pos = memchr::memchr(b'\n', &hay[h..]).map_or(hay.len(), |i| h + i + 1);
            }
            n
        })
    });
    g.finish();
}

fn classify(c: &mut Criterion) {
    let classifier = Classifier::new(rules::builtin().expect("rules")).expect("prefilter");
    let ctx = LineContext::in_year(2024);
    let records: Vec<_> = LINES.iter().map(|(_, l)| format::parse_line(l, &ctx)).collect();
    let mut g = c.benchmark_group("classify");
    g.throughput(Throughput::Elements(records.len() as u64));
    g.bench_function("failure_lines", |b| {
        b.iter(|| {
            records.iter().filter(|r| classifier.classify(black_box(r)).is_reported()).count()
        })
    });
    g.finish();
}

criterion_group!(benches, parsers, prefilter, classify);
criterion_main!(benches);
