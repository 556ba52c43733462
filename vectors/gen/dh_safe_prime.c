/* Helper of dh_checks.py: prints a random prime of the given size, optionally
 * safe, optionally with p % add == rem, using OpenSSL's BN_generate_prime_ex2.
 * Usage: dh_safe_prime BITS SAFE(0|1) [ADD REM]
 * Not part of the library; the vectors' expected verdicts are computed in
 * Python, not taken from this program. */
#include <openssl/bn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 5)
        return 2;
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *p = BN_new(), *add = NULL, *rem = NULL;
    if (argc == 5) {
        add = BN_new();
        rem = BN_new();
        BN_set_word(add, strtoul(argv[3], NULL, 10));
        BN_set_word(rem, strtoul(argv[4], NULL, 10));
    }
    if (!BN_generate_prime_ex2(p, atoi(argv[1]), atoi(argv[2]), add, rem, NULL, ctx))
        return 1;
    char *hex = BN_bn2hex(p);
    printf("%s\n", hex);
    OPENSSL_free(hex);
    BN_free(p);
    BN_free(add);
    BN_free(rem);
    BN_CTX_free(ctx);
    return 0;
}
