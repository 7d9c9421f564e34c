#ifndef TRELLIS_CROCKSDB_SHIM_H
#define TRELLIS_CROCKSDB_SHIM_H
#include <rocksdb/c.h>
#endif
