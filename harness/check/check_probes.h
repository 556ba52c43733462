/* The probes a server case can name ("probe": {"do": NAME, ...}, docs/cases.md):
 * each drives the server under test through what the case breaks, then
 * writes one "reaction" event that says what the server did (a reaction of
 * the catalogue: answer, silence, close, transport-404, bad_msg_notification
 * ...), with the events it rests on.  The judge (check_server_judge.c) turns
 * it into a verdict against the case's allowed reactions. */
#ifndef MTP_CHECK_PROBES_H
#define MTP_CHECK_PROBES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "check/check_probe.h"

/* Whether name is a probe ("do"), and checks its parameters; problems are
 * written to why (one line) and make it return false. */
bool probe_spec_valid(const json_t *spec, char *why, size_t why_len);
/* Every probe name with a line about it (docs, --list-probes). */
void probe_list(void (*fn)(void *ctx, const char *name, const char *what), void *ctx);

/* Runs the probe of spec.  0: a reaction was recorded; -1: the run could not
 * proceed (P->error says why: the server did not do its honest part, or the
 * harness failed). */
int probe_run(struct probe *P, const json_t *spec);

/* The reaction event (written once, at the end of a probe).  hostile and
 * evidence are event indices (0 entries are skipped). */
size_t probe_reaction(struct probe *P, const char *reaction, const size_t *hostile, size_t nhostile,
                      const size_t *evidence, size_t nevidence, const char *fmt, ...) MTP_PRINTF(7, 8);

/* check_timing.c: the timing side channel (tlsfuzzer's method). */
int probe_timing(struct probe *P, const json_t *spec);

#endif
