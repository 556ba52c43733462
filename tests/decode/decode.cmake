# The capture decoder, `mtprobe decode` (included from CMakeLists.txt; docs/decode.md).
#
#   decode/captures              label decode:          the committed captures, and damaged copies of one
#   decode/capture/<client>      label decode;e2e|interop: tcpdump on loopback while the reference client,
#                                Telethon or GramJS talk to `mtprobe serve` over every transport they have;
#                                every message both ways must decode (tests/decode/capture_test.py)
#   decode/capture/ipv6          the reference client over ::1
#   decode/capture/deviations    seeded client faults and hostile scenarios, each found by --check
#
# Capturing needs root or CAP_NET_RAW (CI runs as root): without it the capture tests fail and say so.

if(NOT MTP_INTEROP_PYTHON)
  message(WARNING "python3 not found: the decode tests are not registered")
  return()
endif()

add_test(NAME decode/captures
  COMMAND ${MTP_INTEROP_PYTHON} ${CMAKE_SOURCE_DIR}/tests/decode/captures_test.py --mtprobe $<TARGET_FILE:mtprobe>)
set_tests_properties(decode/captures PROPERTIES LABELS decode TIMEOUT 300)

set(MTP_CAPTURE_TEST ${CMAKE_SOURCE_DIR}/tests/decode/capture_test.py)
add_test(NAME decode/capture/mtprobe
  COMMAND ${MTP_INTEROP_PYTHON} ${MTP_CAPTURE_TEST} --mtprobe $<TARGET_FILE:mtprobe> --client mtprobe)
add_test(NAME decode/capture/ipv6
  COMMAND ${MTP_INTEROP_PYTHON} ${MTP_CAPTURE_TEST} --mtprobe $<TARGET_FILE:mtprobe> --client mtprobe --ipv6)
add_test(NAME decode/capture/deviations
  COMMAND ${MTP_INTEROP_PYTHON} ${MTP_CAPTURE_TEST} --mtprobe $<TARGET_FILE:mtprobe> --deviations)
set_tests_properties(decode/capture/mtprobe decode/capture/ipv6 decode/capture/deviations PROPERTIES
  LABELS "decode;e2e" TIMEOUT 600)
add_test(NAME decode/capture/telethon
  COMMAND ${MTP_INTEROP_PYTHON} ${MTP_CAPTURE_TEST} --mtprobe $<TARGET_FILE:mtprobe> --client telethon)
add_test(NAME decode/capture/gramjs
  COMMAND ${MTP_INTEROP_PYTHON} ${MTP_CAPTURE_TEST} --mtprobe $<TARGET_FILE:mtprobe> --client gramjs)
set_tests_properties(decode/capture/telethon decode/capture/gramjs PROPERTIES
  LABELS "decode;interop" TIMEOUT 600)
set_tests_properties(decode/capture/gramjs PROPERTIES FIXTURES_REQUIRED interop_node
  ENVIRONMENT "NODE_PATH=${MTP_INTEROP_NODE_DIR}/node_modules")
