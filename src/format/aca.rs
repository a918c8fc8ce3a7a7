//! Azure Container Apps system logs and Log Analytics rows: column names to
//! record fields.
//!
//! This module owns one mapping, shared by every shape these logs arrive
//! in: Log Analytics exports of `ContainerAppSystemLogs_CL` (custom-log
//! columns with type suffixes: `Log_s`, `RevisionName_s`, `Count_d`) and of
//! the Azure Monitor table `ContainerAppSystemLogs` (`Log`, `RevisionName`,
//! `Count`), as CSV (`super::document`) or as `az monitor log-analytics
//! query` JSON rows, and the objects `az containerapp logs show --type
//! system` prints (`TimeStamp`, `Msg`, `Type`, `Count`). It knows column
//! names and value shapes, not how rows are read: callers hand it the
//! column names once ([`Columns::from_names`]) and a value getter per row.
//!
//! Two traps: the column `Type` is the *table name* in Log Analytics rows
//! (`ContainerAppSystemLogs_CL`) but the event type (`Warning` / `Normal`)
//! in the CLI's objects, so `Type_s` is preferred and a `Type` value that
//! is not a level word is ignored; and `TimeGenerated` is UTC even when the
//! portal writes it as `11/22/2024, 9:26:00.123 AM`, unless the export's
//! header says `[Local Time]`.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::Outer;
use crate::record::{Emitter, Envelope, Level, Record};
use crate::time::Timestamp;

/// What a column holds. Lower rank = preferred when several columns hold
/// the same thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Message,
    Time,
    App,
    Revision,
    Replica,
    Level,
    Count,
    Host,
}

/// The role and rank of a column name.
fn role(name: &str) -> Option<(Role, u8)> {
    let r = match name {
        "Log_s" => (Role::Message, 0),
        "Log" => (Role::Message, 1),
        "Msg" => (Role::Message, 2),
        "Msg_s" => (Role::Message, 3),
        "Message" => (Role::Message, 4),
        "Message_s" => (Role::Message, 5),
        "TimeGenerated" => (Role::Time, 0),
        "TimeStamp" | "Timestamp" => (Role::Time, 2),
        "TimeStamp_s" | "Timestamp_s" => (Role::Time, 3),
        n if n.starts_with("TimeGenerated") => (Role::Time, 1),
        "ContainerAppName_s" => (Role::App, 0),
        "ContainerAppName" => (Role::App, 1),
        "RevisionName_s" => (Role::Revision, 0),
        "RevisionName" => (Role::Revision, 1),
        "ReplicaName_s" => (Role::Replica, 0),
        "ReplicaName" => (Role::Replica, 1),
        "Type_s" => (Role::Level, 0),
        "Level" | "Level_s" => (Role::Level, 1),
        "Type" => (Role::Level, 2),
        "Count_d" => (Role::Count, 0),
        "Count" => (Role::Count, 1),
        "Computer" => (Role::Host, 0),
        _ => return None,
    };
    Some(r)
}

/// Whether a column name is one this mapping reads.
pub(crate) fn is_column(name: &str) -> bool {
    role(column_name(name)).is_some()
}

/// A column name as [`Columns::from_names`] reads it: without surrounding
/// spaces or a BOM.
fn column_name(name: &str) -> &str {
    name.trim().trim_start_matches('\u{feff}')
}

/// Where each field is, by column index, for one header (CSV) or one
/// object's key list (JSON).
#[derive(Clone, Debug, Default)]
pub(crate) struct Columns {
    message: Option<(usize, u8)>,
    /// The time column, and whether its readings are local wall-clock time.
    time: Option<(usize, u8, bool)>,
    app: Option<(usize, u8)>,
    revision: Option<(usize, u8)>,
    replica: Option<(usize, u8)>,
    /// Level columns in order of preference (a `Type` holding the table
    /// name falls through to the next).
    levels: Vec<(u8, usize)>,
    count: Option<(usize, u8)>,
    host: Option<(usize, u8)>,
}

impl Columns {
    /// Map column names (in column order) to fields.
    pub(crate) fn from_names<'n>(names: impl IntoIterator<Item = &'n str>) -> Columns {
        fn keep(slot: &mut Option<(usize, u8)>, i: usize, rank: u8) {
            if slot.is_none_or(|(_, r)| rank < r) {
                *slot = Some((i, rank));
            }
        }
        let mut c = Columns::default();
        for (i, name) in names.into_iter().enumerate() {
            let name = column_name(name);
            let Some((role, rank)) = role(name) else { continue };
            match role {
                Role::Message => keep(&mut c.message, i, rank),
                Role::Time => {
                    if c.time.is_none_or(|(_, r, _)| rank < r) {
                        let local = name.contains("Local");
                        c.time = Some((i, rank, local));
                    }
                }
                Role::App => keep(&mut c.app, i, rank),
                Role::Revision => keep(&mut c.revision, i, rank),
                Role::Replica => keep(&mut c.replica, i, rank),
                Role::Level => c.levels.push((rank, i)),
                Role::Count => keep(&mut c.count, i, rank),
                Role::Host => keep(&mut c.host, i, rank),
            }
        }
        c.levels.sort_unstable();
        c
    }

    /// Whether these columns make a Log Analytics export worth reading as
    /// one: a message column and a `TimeGenerated` column.
    pub(crate) fn is_export(&self) -> bool {
        self.message.is_some() && self.time.is_some_and(|(_, rank, _)| rank <= 1)
    }

    /// Whether a JSON object with these keys is a system-log row: a message
    /// and at least one of time, app, revision, replica.
    pub(crate) fn is_row(&self) -> bool {
        self.message.is_some()
            && (self.time.is_some()
                || self.app.is_some()
                || self.revision.is_some()
                || self.replica.is_some())
    }

    /// The index of the message column.
    pub(crate) fn message(&self) -> Option<usize> {
        self.message.map(|(i, _)| i)
    }

    /// The fields of one row: `get(i)` is column `i`'s text (`None` when the
    /// row is short or the value is null). Empty values count as absent.
    pub(crate) fn outer<'v>(
        &self,
        envelope: Envelope,
        get: impl Fn(usize) -> Option<Cow<'v, str>>,
    ) -> Outer<'v> {
        let text = |slot: Option<(usize, u8)>| {
            slot.and_then(|(i, _)| get(i)).filter(|v| !v.trim().is_empty())
        };
        let time = self.time.and_then(|(i, _, local)| {
            let t = Timestamp::parse_field(&get(i)?)?;
            Some(if local { t } else { t.assume_utc() })
        });
        let level = self
            .levels
            .iter()
            .filter_map(|&(_, i)| get(i))
            .map(|v| Level::from_word(v.trim()))
            .find(|l| *l != Level::Unknown)
            .unwrap_or(Level::Unknown);
        let count = text(self.count)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|n| n.is_finite() && *n >= 1.0)
            .map_or(1, |n| n.min(f64::from(u32::MAX)) as u32);
        let fields = Record {
            envelope: Some(envelope),
            emitter: Emitter::Aca,
            level,
            time,
            host: text(self.host),
            app: text(self.app),
            revision: text(self.revision),
            replica: text(self.replica),
            count,
            ..Record::default()
        };
        Outer { fields, level_wins: true }
    }
}

/// A system-log object or Log Analytics row as JSON: its fields and message.
pub(crate) fn from_json(
    obj: &Map<String, Value>,
    envelope: Envelope,
) -> Option<(Outer<'_>, Cow<'_, str>)> {
    let entries: Vec<(&str, &Value)> = obj.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let cols = Columns::from_names(entries.iter().map(|(k, _)| *k));
    if !cols.is_row() {
        return None;
    }
    let get = |i: usize| entries.get(i).and_then(|(_, v)| value_text(v));
    let message = get(cols.message()?).unwrap_or(Cow::Borrowed(""));
    Some((cols.outer(envelope, get), message))
}

/// A JSON scalar as text (Log Analytics rows from the CLI are all strings;
/// the system-log objects have a numeric `Count`).
fn value_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names() {
        /// (header, message column, time column, level columns in order)
        type Row = (&'static str, Option<usize>, Option<usize>, &'static [usize]);
        let table: [Row; 4] = [
            (
                // The 19 columns of a portal export of ContainerAppSystemLogs_CL.
                "TenantId,SourceSystem,MG,ManagementGroupName,TimeGenerated [UTC],Computer,RawData,ContainerAppName_s,EnvironmentName_s,RevisionName_s,ReplicaName_s,Log_s,Reason_s,Type_s,EventSource_s,Count_d,_timestamp_d,Type,_ResourceId",
                Some(11), Some(4), &[13, 17],
            ),
            (
                // The Azure Monitor table.
                "TimeGenerated,EnvironmentName,ContainerAppName,RevisionName,ReplicaName,Log,Reason,EventSource,Count,Type,_ResourceId",
                Some(5), Some(0), &[9],
            ),
            (
                "TimeStamp,Type,ContainerAppName,RevisionName,ReplicaName,Msg,Reason,EventSource,Count",
                Some(5), Some(0), &[1],
            ),
            ("a,b,c", None, None, &[]),
        ];
        for (header, message, time, levels) in table {
            let c = Columns::from_names(header.split(','));
            assert_eq!(c.message(), message, "{header}");
            assert_eq!(c.time.map(|t| t.0), time, "{header}");
            assert_eq!(c.levels.iter().map(|l| l.1).collect::<Vec<_>>(), levels, "{header}");
        }
        assert!(Columns::from_names("TimeGenerated [UTC],Log_s".split(',')).is_export());
        assert!(!Columns::from_names("TimeStamp,Msg".split(',')).is_export());
        assert!(Columns::from_names("TimeStamp,Msg".split(',')).is_row());
        let local = Columns::from_names("TimeGenerated [Local Time],Log_s".split(','));
        assert!(local.time.is_some_and(|t| t.2));
    }

    #[test]
    fn row_values() {
        let header = "TimeGenerated [UTC],Log_s,Type_s,Count_d,Type,Computer,ContainerAppName_s";
        let c = Columns::from_names(header.split(','));
        let row = [
            "11/22/2024, 9:26:00.123 AM",
            "boom",
            "",
            "3",
            "ContainerAppSystemLogs_CL",
            " ",
            "app",
        ];
        let o = c.outer(Envelope::AcaCsv, |i| row.get(i).map(|v| Cow::Borrowed(*v)));
        assert_eq!(
            o.fields.time.map(|t| t.to_string()).as_deref(),
            Some("2024-11-22T09:26:00.123Z")
        );
        // Type_s is empty and Type is the table name: no level.
        assert_eq!(o.fields.level, Level::Unknown);
        assert_eq!(o.fields.count, 3);
        assert_eq!(o.fields.host, None);
        assert_eq!(o.fields.app.as_deref(), Some("app"));
    }
}
