// SIMULATION: the virtual board is the EMBER_UNIX build with other frozen modules.
#include "../EMBER_UNIX/mpconfigvariant.h"
