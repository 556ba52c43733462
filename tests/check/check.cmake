# The conformance suite in the tests (included from CMakeLists.txt).
#
#   check/validate                 label unit:  every case file parses and names a catalogue item
#   check/reference/<transport>    label check: `mtprobe check client` against the reference client;
#                                  every case must pass (exit 0, no MUST failure, no harness error)
#   check/seeded-faults            label check: every fault switch of the reference client is caught
#                                  by a case of the requirement it breaks
#   check/<client>/<transport>     label check;interop: Telethon and GramJS through their adapters,
#                                  with their expectations files (every known deviation explained)
#
# Reports go to <build>/test-reports/check/<name>/ (report.json, junit.xml, runs/ of failed runs).

set(MTP_CHECK_REPORTS ${CMAKE_BINARY_DIR}/test-reports/check)
set(MTP_CHECK_REF_CMD
  "$<TARGET_FILE:mtprobe> client --server {host}:{port} --rsa-pub {rsa_pub} --transport {transport} --secret '{secret}' --dc {dc} --request {request} --timeout {timeout}")
set(MTP_CHECK_TELETHON_CMD
  "${MTP_INTEROP_PYTHON} ${CMAKE_SOURCE_DIR}/harness/adapters/telethon_adapter.py --connect {host}:{port} --rsa-key {rsa_pub} --transport {transport} --secret '{secret}' --dc {dc} --request {request} --timeout {timeout}")
set(MTP_CHECK_GRAMJS_CMD
  "node ${CMAKE_SOURCE_DIR}/harness/adapters/gramjs_adapter.js --connect {host}:{port} --rsa-key {rsa_pub} --transport {transport} --secret '{secret}' --dc {dc} --request {request} --timeout {timeout}")

add_test(NAME check/validate COMMAND mtprobe check --validate WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(check/validate PROPERTIES LABELS unit)

if(MTPROBE_SANITIZE)
  # Slower under the sanitizers: one transport of each framing family, more time per case.
  set(MTP_CHECK_REF_TRANSPORTS full obfuscated-abridged obfuscated-padded)
  set(MTP_CHECK_SCALE 3)
else()
  set(MTP_CHECK_REF_TRANSPORTS abridged intermediate padded full
    obfuscated-abridged obfuscated-intermediate obfuscated-padded)
  set(MTP_CHECK_SCALE 1)
endif()

foreach(t ${MTP_CHECK_REF_TRANSPORTS})
  add_test(NAME check/reference/${t}
    COMMAND mtprobe check client --cmd "${MTP_CHECK_REF_CMD}" --transports ${t} --jobs 2 --require-pass
      --timeout-scale ${MTP_CHECK_SCALE} --report-dir ${MTP_CHECK_REPORTS}/reference-${t}
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(check/reference/${t} PROPERTIES LABELS check TIMEOUT 1200)
endforeach()

if(MTP_INTEROP_PYTHON)
  add_test(NAME check/seeded-faults
    COMMAND ${MTP_INTEROP_PYTHON} ${CMAKE_SOURCE_DIR}/tests/check/seeded_faults.py --mtprobe $<TARGET_FILE:mtprobe>
      --timeout-scale ${MTP_CHECK_SCALE} --report-dir ${MTP_CHECK_REPORTS}/seeded-faults
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(check/seeded-faults PROPERTIES LABELS check TIMEOUT 1800)
endif()

# The real clients: one plain and one obfuscated transport each, judged with their expectations
# files (harness/adapters/expect/): a deviation not listed there, or a listed one that no longer
# happens, fails the test.
function(mtp_check_client name cmd transport)
  if(NOT EXISTS ${CMAKE_SOURCE_DIR}/harness/adapters/expect/${name}.json)
    message(WARNING "harness/adapters/expect/${name}.json is missing: check/${name} is not registered")
    return()
  endif()
  add_test(NAME check/${name}/${transport}
    COMMAND mtprobe check client --cmd "${cmd}" --transports ${transport} --jobs 2
      --expect ${CMAKE_SOURCE_DIR}/harness/adapters/expect/${name}.json
      --report-dir ${MTP_CHECK_REPORTS}/${name}-${transport}
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(check/${name}/${transport} PROPERTIES LABELS "check;interop" TIMEOUT 1800)
  if(name STREQUAL "gramjs")
    set_tests_properties(check/${name}/${transport} PROPERTIES FIXTURES_REQUIRED interop_node
      ENVIRONMENT "NODE_PATH=${MTP_INTEROP_NODE_DIR}/node_modules")
  endif()
endfunction()

if(MTP_INTEROP_PYTHON AND NOT MTPROBE_SANITIZE)
  mtp_check_client(telethon "${MTP_CHECK_TELETHON_CMD}" intermediate)
  mtp_check_client(telethon "${MTP_CHECK_TELETHON_CMD}" obfuscated-abridged)
  mtp_check_client(gramjs "${MTP_CHECK_GRAMJS_CMD}" abridged)
  mtp_check_client(gramjs "${MTP_CHECK_GRAMJS_CMD}" obfuscated-abridged)
endif()
