//! head.001: business application header (BAH).

use super::common::*;

iso_struct! {
    /// The business application header.
    pub struct AppHeader {
        fr: one PartyOrAgent = "Fr",
        to: one PartyOrAgent = "To",
        biz_msg_idr: one String = "BizMsgIdr",
        msg_def_idr: one String = "MsgDefIdr",
        biz_svc: opt String = "BizSvc",
        cre_dt: one IsoDateTime = "CreDt",
        cpy_dplct: opt Code = "CpyDplct",
        pssbl_dplct: opt String = "PssblDplct",
        prty: opt Code = "Prty",
    }
}
