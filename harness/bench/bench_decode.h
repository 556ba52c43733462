/* The capture decoder against `tshark -q -z follow,tcp,raw` on the same
 * capture in the same run: tshark only reads and reassembles (one stream's
 * bytes printed), the decoder reassembles every connection, frames,
 * decrypts and decodes every message to JSON lines.  The capture is made in
 * memory by the mock DC's connection code and the small client
 * (dec_synth.h): 1000 connections over all seven transports, a quarter of
 * them with a key exchange, each with 20 pings and 30 API calls (tens of MB).
 *   decode_capture                MB     its size (no ceiling)
 *   tshark_follow_raw             MB/s   tshark 4.x, the best of two runs (the reference)
 *   decode_reassemble             MB/s   reading and TCP reassembly only, ceiling = tshark
 *   decode_decrypt                MB/s   ... framing and decryption too, ceiling = tshark
 *   decode_jsonl                  MB/s   everything, JSON lines to /dev/null, ceiling = tshark
 *   decode_text                   MB/s   everything, text to /dev/null, ceiling = tshark
 * Without tshark on the PATH the decoder's figures are recorded without a ceiling. */
#ifndef MTP_BENCH_DECODE_H
#define MTP_BENCH_DECODE_H

#include "bench/bench.h"

int mtp_bench_decode(const struct mtp_bench_sink *sink);

#endif
