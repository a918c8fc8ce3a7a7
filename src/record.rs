//! The normalized record every stage speaks.
//!
//! A format parser (`crate::format`) turns one log line into a [`Record`]:
//! where it came from (envelope, payload format, emitter, host, time), the
//! message text the classifier sees (escapes already undone), and the
//! Kubernetes / registry fields the line carried. This module knows nothing
//! about rules or output; it only names things.

use std::borrow::Cow;

use crate::time::Timestamp;

/// One log record, borrowed from the line it was parsed from where possible.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record<'a> {
    /// The outermost envelope that was unwrapped, if any (syslog, journald, CRI).
    pub envelope: Option<Envelope>,
    /// The format of the payload inside the envelope.
    pub format: Format,
    /// Who wrote the line, as far as the line tells.
    pub emitter: Emitter,
    /// Severity, where the format carries one.
    pub level: Level,
    /// When the line was written, where it says.
    pub time: Option<Timestamp>,
    /// Node or host name (syslog host, journald `_HOSTNAME`, event source host).
    pub host: Option<Cow<'a, str>>,
    /// The text to classify: the payload with escapes undone
    /// (`\"`, `\\\"`, `\u0027`, literal `\n`).
    pub message: Cow<'a, str>,
    /// An image reference stated in a structured field (`image="..."`).
    /// The classifier also finds references inside the message.
    pub image: Option<Cow<'a, str>>,
    /// Kubernetes pod, where the line names one.
    pub pod: Option<Cow<'a, str>>,
    /// Kubernetes namespace, where the line names one.
    pub namespace: Option<Cow<'a, str>>,
    /// Container name, where the line names one.
    pub container: Option<Cow<'a, str>>,
    /// Azure Container Apps app name (`ContainerAppName_s`).
    pub app: Option<Cow<'a, str>>,
    /// Azure Container Apps revision (`RevisionName_s`).
    pub revision: Option<Cow<'a, str>>,
    /// Azure Container Apps replica (`ReplicaName_s`).
    pub replica: Option<Cow<'a, str>>,
    /// How many occurrences this one line stands for (`(x3 over 50s)` in
    /// Kubernetes events); 1 for ordinary lines.
    pub count: u32,
}

impl Record<'_> {
    /// A record for a bare message with nothing else known.
    pub fn plain(message: &str) -> Record<'_> {
        Record { message: Cow::Borrowed(message), count: 1, ..Record::default() }
    }

    /// The same record with every string owned, free of the buffer it was
    /// parsed from (document readers parse from a row or JSON value that
    /// does not outlive the call).
    pub fn into_owned(self) -> Record<'static> {
        fn own(s: Option<Cow<'_, str>>) -> Option<Cow<'static, str>> {
            s.map(|s| Cow::Owned(s.into_owned()))
        }
        Record {
            envelope: self.envelope,
            format: self.format,
            emitter: self.emitter,
            level: self.level,
            time: self.time,
            host: own(self.host),
            message: Cow::Owned(self.message.into_owned()),
            image: own(self.image),
            pod: own(self.pod),
            namespace: own(self.namespace),
            container: own(self.container),
            app: own(self.app),
            revision: own(self.revision),
            replica: own(self.replica),
            count: self.count,
        }
    }
}

/// An envelope: a line prefix that wraps a payload in its own format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Envelope {
    /// RFC 3164 syslog (`Nov 22 09:26:00 host prog[pid]: ...`); this is also
    /// what `journalctl -o short` prints.
    Syslog,
    /// RFC 5424 syslog (`<14>1 2024-... host app procid msgid sd msg`).
    Syslog5424,
    /// `journalctl -o short-iso` / `short-precise` style prefixes.
    Journald,
    /// CRI container log (`<RFC3339Nano> stdout|stderr P|F <payload>`).
    Cri,
    /// `journalctl -o json`: one object per line (`MESSAGE`, `_HOSTNAME`,
    /// `_SYSTEMD_UNIT`, `__REALTIME_TIMESTAMP`).
    JournalJson,
    /// Docker's json-file log driver: `{"log":"...","stream":"stderr","time":"..."}`.
    DockerJson,
    /// A Kubernetes Event object (`kubectl get events -o json`, one per
    /// `items[]` element, or one per line).
    K8sEventJson,
    /// A Log Analytics CSV export row (`ContainerAppSystemLogs_CL`, ...).
    AcaCsv,
    /// A Log Analytics JSON row (`az monitor log-analytics query`) or an
    /// `az containerapp logs show` system-log object.
    AcaJson,
}

impl Envelope {
    /// The stable name used in output.
    pub fn name(self) -> &'static str {
        match self {
            Envelope::Syslog => "syslog",
            Envelope::Syslog5424 => "syslog5424",
            Envelope::Journald => "journald",
            Envelope::Cri => "cri",
            Envelope::JournalJson => "journald-json",
            Envelope::DockerJson => "docker-json",
            Envelope::K8sEventJson => "k8s-event-json",
            Envelope::AcaCsv => "aca-csv",
            Envelope::AcaJson => "aca-json",
        }
    }
}

/// The format of a payload (after any envelope is unwrapped).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// Nothing recognised: the whole line is the message.
    #[default]
    Plain,
    /// `key=value` pairs with quoted values: dockerd, containerd, cri-o,
    /// crictl, the registry (`time="..." level=error msg="..."`).
    Logfmt,
    /// logrus text form (`INFO[0050] message`, `FATA[0000] ...`).
    Logrus,
    /// kubelet / kubeadm klog (`E0825 12:00:00.123456 1234 file.go:180] ...`).
    Klog,
    /// Kubernetes event rows (`kubectl describe` Events, `kubectl get events`).
    K8sEvent,
    /// Docker CLI, compose, buildkit and CI job output.
    DockerCli,
}

impl Format {
    /// The stable name used in output.
    pub fn name(self) -> &'static str {
        match self {
            Format::Plain => "plain",
            Format::Logfmt => "logfmt",
            Format::Logrus => "logrus",
            Format::Klog => "klog",
            Format::K8sEvent => "k8s-event",
            Format::DockerCli => "docker-cli",
        }
    }
}

/// The program that wrote a line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Emitter {
    /// Not known.
    #[default]
    Unknown,
    /// The kubelet (klog, or Kubernetes events from `kubelet` sources).
    Kubelet,
    /// containerd.
    Containerd,
    /// The Docker daemon.
    Dockerd,
    /// CRI-O.
    Crio,
    /// crictl, ctr, nerdctl: runtime CLIs.
    RuntimeCli,
    /// The docker CLI or docker compose.
    DockerCli,
    /// BuildKit / buildx.
    Buildkit,
    /// podman, buildah, skopeo (containers/image).
    Podman,
    /// kubeadm.
    Kubeadm,
    /// Azure Container Apps / Container Instances system logs.
    Aca,
    /// A CI system's job log (GitHub Actions, GitLab, Jenkins, CircleCI).
    Ci,
    /// A container registry's own log.
    Registry,
}

impl Emitter {
    /// The stable name used in output.
    pub fn name(self) -> &'static str {
        match self {
            Emitter::Unknown => "unknown",
            Emitter::Kubelet => "kubelet",
            Emitter::Containerd => "containerd",
            Emitter::Dockerd => "dockerd",
            Emitter::Crio => "crio",
            Emitter::RuntimeCli => "runtime-cli",
            Emitter::DockerCli => "docker-cli",
            Emitter::Buildkit => "buildkit",
            Emitter::Podman => "podman",
            Emitter::Kubeadm => "kubeadm",
            Emitter::Aca => "aca",
            Emitter::Ci => "ci",
            Emitter::Registry => "registry",
        }
    }

    /// Recognise an emitter from a syslog program / systemd unit name
    /// (`dockerd`, `containerd`, `kubelet`, `crio`, `docker.service`, ...).
    pub fn from_program(program: &str) -> Emitter {
        let p = program.strip_suffix(".service").unwrap_or(program);
        match p {
            "dockerd" | "docker" => Emitter::Dockerd,
            "containerd" => Emitter::Containerd,
            "crio" | "cri-o" => Emitter::Crio,
            "kubeadm" => Emitter::Kubeadm,
            "registry" | "docker-registry" => Emitter::Registry,
            "podman" | "buildah" | "skopeo" => Emitter::Podman,
            "crictl" | "ctr" | "nerdctl" => Emitter::RuntimeCli,
            "buildkitd" | "buildkit" => Emitter::Buildkit,
            _ if p.starts_with("kubelet") => Emitter::Kubelet,
            _ => Emitter::Unknown,
        }
    }
}

/// Severity, as the line states it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// The line states no level.
    #[default]
    Unknown,
    /// trace / debug: never a failure report (token handshakes log 401s here).
    Debug,
    /// info / notice.
    Info,
    /// warning.
    Warning,
    /// error, fatal, panic.
    Error,
}

impl Level {
    /// Parse a level word as logfmt, logrus and CI prefixes write it.
    pub fn from_word(word: &str) -> Level {
        match word.to_ascii_lowercase().as_str() {
            "trace" | "debug" | "debu" | "trac" => Level::Debug,
            "info" | "notice" | "normal" => Level::Info,
            "warn" | "warning" => Level::Warning,
            "error" | "erro" | "err" | "fatal" | "fata" | "panic" | "pani" | "crit" => Level::Error,
            _ => Level::Unknown,
        }
    }

    /// Whether the line is debug-level chatter.
    pub fn is_debug(self) -> bool {
        self == Level::Debug
    }
}
