// Lists the products from the API.
fetch('/api/products')
  .then((response) => response.json())
  .then((products) => {
    const list = document.getElementById('products');
    for (const product of products) {
      const item = document.createElement('li');
      item.textContent = `${product.name}: ${product.price.toFixed(2)}`;
      list.append(item);
    }
  });
