# The reports (label "report"), included from CMakeLists.txt:
#   report/schema   every report mtprobe writes (kat, check client, merges, a fuzz summary) against
#                   docs/report.schema.json, and its junit.xml through a JUnit parser
#   report/browser  the HTML report of a real two-implementation run in headless Chromium, checked
#                   against report.json; the first screen of a 5,000-result report under 2 s
# Debian's python3 carries the packages scripts/deps.sh installs (jsonschema, junitparser, telethon).
find_program(MTP_REPORT_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT MTP_REPORT_PYTHON)
  find_program(MTP_REPORT_PYTHON NAMES python3)
endif()
if(NOT MTP_REPORT_PYTHON)
  message(WARNING "python3 not found: the report tests are not registered")
  return()
endif()
add_test(NAME report/schema
  COMMAND ${MTP_REPORT_PYTHON} ${CMAKE_SOURCE_DIR}/tests/report/validate_reports.py --mtprobe $<TARGET_FILE:mtprobe>
    --source-dir ${CMAKE_SOURCE_DIR} --work ${CMAKE_BINARY_DIR}/test-reports/report-schema)
add_test(NAME report/browser
  COMMAND ${MTP_REPORT_PYTHON} ${CMAKE_SOURCE_DIR}/tests/report/browser_test.py --mtprobe $<TARGET_FILE:mtprobe>
    --source-dir ${CMAKE_SOURCE_DIR} --work ${CMAKE_BINARY_DIR}/test-reports/report-browser)
set_tests_properties(report/schema report/browser PROPERTIES LABELS report TIMEOUT 600)
# Alone, so the first-screen figure is the page's and not the other tests'.
set_tests_properties(report/browser PROPERTIES RUN_SERIAL TRUE)
