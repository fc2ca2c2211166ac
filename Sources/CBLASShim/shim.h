#pragma once
// OpenBLAS (cblas_*) and LAPACKE. Debian's OpenBLAS carries no LAPACKE symbols, so the
// module map links liblapacke explicitly.
#include <cblas.h>
#include <lapacke.h>
// OpenBLAS thread control (declared in OpenBLAS's cblas.h on Debian; repeated for clarity).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
