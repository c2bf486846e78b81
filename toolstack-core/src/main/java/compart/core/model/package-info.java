/** The qube model: classes, properties, features, tags, labels. */
package compart.core.model;
