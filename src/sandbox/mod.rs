//! A Twilio emulator on loopback (placeholder, being written).
