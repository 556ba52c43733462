/* Target functions: mtp_rsa_key_from_pem (mtp_rsa_key_to_pem, mtp_rsa_key_n/_e and
 * mtp_rsa_key_fingerprint as its oracles)
 * Input: the bytes of a PEM file, as a server key file or a shim argument would give them.
 * Oracles: a rejection returns MTP_ERR_RSA_BAD_KEY (or an allocation/OpenSSL failure) and no
 * key; an accepted key has a 2048-bit modulus, and its public PKCS#1 PEM parses back to the
 * same n, e and fingerprint. */
#include <stdlib.h>
#include <string.h>

#include "mtp/rsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_rsa_key *k = NULL;
    int rc = mtp_rsa_key_from_pem(data, size, &k, &err);
    if (rc != MTP_OK) {
        if (k != NULL || (rc != MTP_ERR_RSA_BAD_KEY && rc != MTP_ERR_NOMEM && rc != MTP_ERR_OSSL) || err.code != rc)
            __builtin_trap();
        return 0;
    }
    uint8_t n[MTP_RSA_BYTES], e[64], n2[MTP_RSA_BYTES], e2[64], fp[8], fp2[8];
    size_t n_len, e_len, n2_len, e2_len, pem_len;
    char *pem = NULL;
    struct mtp_rsa_key *back = NULL;
    if (mtp_rsa_key_n(k, n, sizeof n, &n_len, NULL) != MTP_OK || n_len != MTP_RSA_BYTES ||
        mtp_rsa_key_e(k, e, sizeof e, &e_len, NULL) != MTP_OK || mtp_rsa_key_fingerprint(k, fp, NULL) != MTP_OK ||
        mtp_rsa_key_to_pem(k, false, &pem, &pem_len, NULL) != MTP_OK ||
        mtp_rsa_key_from_pem(pem, pem_len, &back, NULL) != MTP_OK ||
        mtp_rsa_key_n(back, n2, sizeof n2, &n2_len, NULL) != MTP_OK ||
        mtp_rsa_key_e(back, e2, sizeof e2, &e2_len, NULL) != MTP_OK ||
        mtp_rsa_key_fingerprint(back, fp2, NULL) != MTP_OK)
        __builtin_trap();
    if (n2_len != n_len || memcmp(n, n2, n_len) != 0 || e2_len != e_len || memcmp(e, e2, e_len) != 0 ||
        memcmp(fp, fp2, sizeof fp) != 0 || mtp_rsa_key_has_private(back))
        __builtin_trap();
    free(pem);
    mtp_rsa_key_free(back);
    mtp_rsa_key_free(k);
    return 0;
}
