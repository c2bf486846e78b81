/** Typed access to the parts of libxenctrl that libxl does not offer (raw domain info list, physinfo). */
package compart.xl.xenctrl;
