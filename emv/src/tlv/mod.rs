//! EMV BER-TLV (field 55): decode, encode, DOLs and the tag dictionary.
