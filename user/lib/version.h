/* SPDX-License-Identifier: GPL-2.0 */
/* The version of geoblock, from the Makefile's VERSION: for --version, status --json, metrics. */
#ifndef GEOBLOCK_LIB_VERSION_H
#define GEOBLOCK_LIB_VERSION_H

#ifndef GB_VERSION
#error "GB_VERSION comes from the Makefile (VERSION); build with make"
#endif

#endif
