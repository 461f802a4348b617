//! Any bytes as a V1 JSON text frame, decoded as if sent by a server and by a client.
//! Whatever decodes must re-encode and decode to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rig::protocol::serializer::fuzzing::decode_v1(data);
});
