/** Linux ioctls for volumes: FICLONE, FICLONERANGE, FIDEDUPERANGE, FIEMAP. */
package compart.xl.linux;
