// The reference table: portable C++ for baseline x86-64, what every test compares the ISA
// variants with, and what runs on CPUs without AVX2.
#include <cmath>

#include "kernels/generic/kernels_impl.hpp"

namespace tessera::kernels::detail {

const IsaKernels& generic_kernels() {
    static const IsaKernels table = portable_table("portable");
    return table;
}

}  // namespace tessera::kernels::detail
