package footfall.udf;

/**
 * shop_name(mall_id, shop_code): the shop's name in the layout (PostgreSQL shops, reloaded and
 * kept through an outage as every layout function's), for the shops a device is placed in
 * (a zone of place_device), which no probe's report names. The code itself for a shop the
 * layout does not hold (yet): a name is never missing from an output row.
 */
public class ShopName extends LayoutScalarFunction {
    public String eval(String mallId, String shopCode) {
        if (shopCode == null) {
            return null;
        }
        String name = layout.shopName(mallId, shopCode);
        return name == null ? shopCode : name;
    }
}
