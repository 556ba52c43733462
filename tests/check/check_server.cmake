# `mtprobe check server` in the tests (included from CMakeLists.txt, next to check.cmake).
#
#   check-server/honest/<transport>  label check: the whole server suite against the honest `mtprobe serve`;
#                                    every run must pass (docs/check-server.md)
#   check-server/honest-secret       label check: the transport cases on the obfuscated transports against
#                                    `mtprobe serve --secret` (the cases that need an MTProxy secret)
#   check-server/seeded-faults       label check: every `mtprobe serve --fault` is caught by a case of the
#                                    requirement it breaks (the score is printed)
#   check-server/timing/honest       label check: the timing side channel, 3 runs against the honest mock DC:
#                                    none may flag a leak
#   check-server/timing/leak         label check: 3 runs against `mtprobe serve --fault early-length-check`:
#                                    every one must flag it
#
# Reports go to <build>/test-reports/check-server/<name>/.

set(MTP_CHECK_SERVER_REPORTS ${CMAKE_BINARY_DIR}/test-reports/check-server)
set(MTP_CHECK_SERVER_PY ${CMAKE_SOURCE_DIR}/tests/check/check_server.py)

if(MTPROBE_SANITIZE)
  # Slower under the sanitizers: one transport of each framing family, more time per wait.
  set(MTP_CHECK_SERVER_TRANSPORTS full obfuscated-abridged obfuscated-padded)
  set(MTP_CHECK_SERVER_SCALE 3)
else()
  set(MTP_CHECK_SERVER_TRANSPORTS abridged intermediate padded full
    obfuscated-abridged obfuscated-intermediate obfuscated-padded)
  set(MTP_CHECK_SERVER_SCALE 1)
endif()

if(MTP_PYTHON3)
  foreach(t ${MTP_CHECK_SERVER_TRANSPORTS})
    add_test(NAME check-server/honest/${t}
      COMMAND ${MTP_PYTHON3} ${MTP_CHECK_SERVER_PY} --mtprobe $<TARGET_FILE:mtprobe>
        --timeout-scale ${MTP_CHECK_SERVER_SCALE} --report-dir ${MTP_CHECK_SERVER_REPORTS}/honest-${t}
        honest --transports ${t}
      WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
    set_tests_properties(check-server/honest/${t} PROPERTIES LABELS check TIMEOUT 1200)
  endforeach()
  add_test(NAME check-server/honest-secret
    COMMAND ${MTP_PYTHON3} ${MTP_CHECK_SERVER_PY} --mtprobe $<TARGET_FILE:mtprobe>
      --timeout-scale ${MTP_CHECK_SERVER_SCALE} --report-dir ${MTP_CHECK_SERVER_REPORTS}/honest-secret
      honest --transports obfuscated --secret 0123456789abcdef0123456789abcdef --cases "server.tr.*"
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  add_test(NAME check-server/seeded-faults
    COMMAND ${MTP_PYTHON3} ${MTP_CHECK_SERVER_PY} --mtprobe $<TARGET_FILE:mtprobe>
      --timeout-scale ${MTP_CHECK_SERVER_SCALE} --report-dir ${MTP_CHECK_SERVER_REPORTS}/seeded-faults faults
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  add_test(NAME check-server/timing/honest
    COMMAND ${MTP_PYTHON3} ${MTP_CHECK_SERVER_PY} --mtprobe $<TARGET_FILE:mtprobe>
      --report-dir ${MTP_CHECK_SERVER_REPORTS}/timing-honest timing --runs 3
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  add_test(NAME check-server/timing/leak
    COMMAND ${MTP_PYTHON3} ${MTP_CHECK_SERVER_PY} --mtprobe $<TARGET_FILE:mtprobe>
      --report-dir ${MTP_CHECK_SERVER_REPORTS}/timing-leak timing --runs 3 --fault early-length-check --expect-leak
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(check-server/honest-secret check-server/seeded-faults check-server/timing/honest
    check-server/timing/leak PROPERTIES LABELS check TIMEOUT 1800)
  # The timing tests measure: they must not share the two cores with the other check runs.
  set_tests_properties(check-server/timing/honest check-server/timing/leak PROPERTIES RUN_SERIAL TRUE)
else()
  message(WARNING "python3 not found: the check-server tests are not registered")
endif()
