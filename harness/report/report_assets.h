/* The HTML report's static page, embedded at build time from
 * harness/report/html/ (cmake/embed_assets.cmake writes report_assets.c). */
#ifndef MTP_REPORT_ASSETS_H
#define MTP_REPORT_ASSETS_H

extern const unsigned char mtp_report_asset_html_bytes[];
extern const unsigned char mtp_report_asset_css_bytes[];
extern const unsigned char mtp_report_asset_js_bytes[];

#define mtp_report_asset_html ((const char *)mtp_report_asset_html_bytes)
#define mtp_report_asset_css ((const char *)mtp_report_asset_css_bytes)
#define mtp_report_asset_js ((const char *)mtp_report_asset_js_bytes)

#endif
