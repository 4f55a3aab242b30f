//! The supported wire versions: namespace, message element and family of each. This table is
//! the one place a new version is registered.

use serde::Serialize;

use super::ISO_NS_PREFIX;

/// A message family: one version-independent model each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Family {
    /// pacs.008 FI-to-FI customer credit transfer.
    FiCreditTransfer,
    /// pain.001 customer credit transfer initiation.
    CustomerCreditTransferInitiation,
    /// pacs.002 payment status report.
    PaymentStatusReport,
    /// pacs.004 payment return.
    PaymentReturn,
    /// camt.056 cancellation request.
    CancellationRequest,
    /// camt.029 resolution of investigation.
    InvestigationResolution,
    /// camt.053 statement.
    Statement,
    /// camt.054 notification.
    Notification,
    /// head.001 business application header.
    Header,
}

/// One supported wire version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version(&'static VersionInfo);

/// What the table says about a version.
#[derive(Debug, PartialEq, Eq)]
pub struct VersionInfo {
    /// Message identifier, e.g. `pacs.008.001.08`.
    pub id: &'static str,
    /// Family model it maps to.
    pub family: Family,
    /// The message element under `Document` ("" for the header).
    pub root: &'static str,
}

/// Every supported version.
pub static VERSIONS: &[VersionInfo] = &[
    VersionInfo {
        id: "pacs.008.001.08",
        family: Family::FiCreditTransfer,
        root: "FIToFICstmrCdtTrf",
    },
    VersionInfo {
        id: "pain.001.001.09",
        family: Family::CustomerCreditTransferInitiation,
        root: "CstmrCdtTrfInitn",
    },
    VersionInfo {
        id: "pacs.002.001.10",
        family: Family::PaymentStatusReport,
        root: "FIToFIPmtStsRpt",
    },
    VersionInfo {
        id: "pacs.004.001.09",
        family: Family::PaymentReturn,
        root: "PmtRtr",
    },
    VersionInfo {
        id: "pacs.004.001.10",
        family: Family::PaymentReturn,
        root: "PmtRtr",
    },
    VersionInfo {
        id: "camt.056.001.08",
        family: Family::CancellationRequest,
        root: "FIToFIPmtCxlReq",
    },
    VersionInfo {
        id: "camt.029.001.09",
        family: Family::InvestigationResolution,
        root: "RsltnOfInvstgtn",
    },
    VersionInfo {
        id: "camt.053.001.08",
        family: Family::Statement,
        root: "BkToCstmrStmt",
    },
    VersionInfo {
        id: "camt.053.001.02",
        family: Family::Statement,
        root: "BkToCstmrStmt",
    },
    VersionInfo {
        id: "camt.054.001.08",
        family: Family::Notification,
        root: "BkToCstmrDbtCdtNtfctn",
    },
    VersionInfo {
        id: "head.001.001.02",
        family: Family::Header,
        root: "",
    },
];

impl Version {
    /// The version for an identifier such as `pacs.008.001.08`.
    pub fn from_id(id: &str) -> Option<Version> {
        VERSIONS.iter().find(|v| v.id == id).map(Version)
    }

    /// The version for a full namespace.
    pub fn from_namespace(ns: &str) -> Option<Version> {
        ns.strip_prefix(ISO_NS_PREFIX).and_then(Version::from_id)
    }

    /// Identifier, e.g. `pacs.008.001.08`.
    pub fn id(self) -> &'static str {
        self.0.id
    }

    /// The message type, e.g. `pacs.008`.
    pub fn message_type(self) -> &'static str {
        self.0.id.get(..8).unwrap_or(self.0.id)
    }

    /// Family model.
    pub fn family(self) -> Family {
        self.0.family
    }

    /// The message element under `Document`.
    pub fn root_element(self) -> &'static str {
        self.0.root
    }

    /// The full namespace.
    pub fn namespace(self) -> String {
        format!("{ISO_NS_PREFIX}{}", self.0.id)
    }
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.id)
    }
}

/// The supported namespaces, comma-separated, for error messages.
pub fn supported_list() -> String {
    VERSIONS
        .iter()
        .map(|v| format!("{ISO_NS_PREFIX}{}", v.id))
        .collect::<Vec<_>>()
        .join(", ")
}
