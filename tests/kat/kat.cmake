# The KAT judge from a third party's side (label kat), included from CMakeLists.txt:
#   kat/thirdparty   tests/kat/thirdparty_shim.py, an implementation written from docs/shim.md version 1
#                    with its own error names, through `mtprobe kat --shim`: never a failure; wrong-error
#                    notes without its error map (tests/kat/thirdparty_errors.json), passes with it;
#                    --strict fails what it should.
find_program(MTP_KAT_PYTHON NAMES python3)
if(NOT MTP_KAT_PYTHON)
  message(WARNING "python3 not found: kat/thirdparty is not registered")
  return()
endif()
add_test(NAME kat/thirdparty
  COMMAND ${MTP_KAT_PYTHON} ${CMAKE_SOURCE_DIR}/tests/kat/thirdparty_test.py --mtprobe $<TARGET_FILE:mtprobe>
    --source-dir ${CMAKE_SOURCE_DIR} --work ${CMAKE_BINARY_DIR}/test-reports/kat-thirdparty)
set_tests_properties(kat/thirdparty PROPERTIES LABELS kat TIMEOUT 900)
