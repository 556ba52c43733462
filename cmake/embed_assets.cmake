# Writes a C file holding the HTML report's page, its CSS and its JS as
# NUL-terminated byte arrays, so the mtprobe binary writes index.html on its own.
#   cmake -DOUT=file.c -DHTML=page.html -DCSS=style.css -DJS=app.js -P embed_assets.cmake
set(body "/* generated from harness/report/html/ by cmake/embed_assets.cmake; do not edit */\n")
string(APPEND body "#include \"report/report_assets.h\"\n\n")
foreach(part html css js)
  string(TOUPPER ${part} var)
  file(READ "${${var}}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  # Break the array every 24 bytes so the generated file stays readable by tools.
  string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){24})" "\\1\n" bytes "${bytes}")
  string(APPEND body "const unsigned char mtp_report_asset_${part}_bytes[] = {\n${bytes}0x00};\n\n")
endforeach()
file(WRITE "${OUT}.tmp" "${body}")
file(RENAME "${OUT}.tmp" "${OUT}")
