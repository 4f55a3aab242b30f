//! ISO 8583: dialects (data files), MTI, bitmaps, field pack/unpack and message framing.
