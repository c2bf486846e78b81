/** The qvm-* commands. */
package compart.cli;
